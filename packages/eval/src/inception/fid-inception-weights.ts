import * as tf from '@tensorflow/tfjs';
import { f16ToF32, type HostTensor, TensorFileError, toFloat32 } from '@adm/core';

/** BatchNorm epsilon of the TF graph (BatchNormWithGlobalNormalization) and torchvision's BasicConv2d. */
export const INCEPTION_BN_EPS = 1e-3;

/** A conv + batch-norm pair folded into one conv with bias (HWIO filter), ReLU applied after. */
export interface FoldedConv {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  kernel: [number, number];
}

export interface FidInceptionWeights {
  convs: Map<string, FoldedConv>;
  /** [2048, 1008] (the TF graph's softmax/weights) */
  fcWeight: tf.Tensor2D;
  /** [1008] */
  fcBias: tf.Tensor1D;
}

/** Every BasicConv2d of pytorch-fid's fid_inception_v3, with its expected [out, in, kH, kW]. */
export const FID_INCEPTION_CONVS: ReadonlyArray<readonly [string, number, number, number, number]> = buildConvTable();

function buildConvTable(): Array<[string, number, number, number, number]> {
  const t: Array<[string, number, number, number, number]> = [
    ['Conv2d_1a_3x3', 32, 3, 3, 3],
    ['Conv2d_2a_3x3', 32, 32, 3, 3],
    ['Conv2d_2b_3x3', 64, 32, 3, 3],
    ['Conv2d_3b_1x1', 80, 64, 1, 1],
    ['Conv2d_4a_3x3', 192, 80, 3, 3],
  ];
  const a = (name: string, cin: number, pool: number) =>
    t.push(
      [`${name}.branch1x1`, 64, cin, 1, 1],
      [`${name}.branch5x5_1`, 48, cin, 1, 1],
      [`${name}.branch5x5_2`, 64, 48, 5, 5],
      [`${name}.branch3x3dbl_1`, 64, cin, 1, 1],
      [`${name}.branch3x3dbl_2`, 96, 64, 3, 3],
      [`${name}.branch3x3dbl_3`, 96, 96, 3, 3],
      [`${name}.branch_pool`, pool, cin, 1, 1],
    );
  a('Mixed_5b', 192, 32);
  a('Mixed_5c', 256, 64);
  a('Mixed_5d', 288, 64);
  t.push(
    ['Mixed_6a.branch3x3', 384, 288, 3, 3],
    ['Mixed_6a.branch3x3dbl_1', 64, 288, 1, 1],
    ['Mixed_6a.branch3x3dbl_2', 96, 64, 3, 3],
    ['Mixed_6a.branch3x3dbl_3', 96, 96, 3, 3],
  );
  const c = (name: string, c7: number) =>
    t.push(
      [`${name}.branch1x1`, 192, 768, 1, 1],
      [`${name}.branch7x7_1`, c7, 768, 1, 1],
      [`${name}.branch7x7_2`, c7, c7, 1, 7],
      [`${name}.branch7x7_3`, 192, c7, 7, 1],
      [`${name}.branch7x7dbl_1`, c7, 768, 1, 1],
      [`${name}.branch7x7dbl_2`, c7, c7, 7, 1],
      [`${name}.branch7x7dbl_3`, c7, c7, 1, 7],
      [`${name}.branch7x7dbl_4`, c7, c7, 7, 1],
      [`${name}.branch7x7dbl_5`, 192, c7, 1, 7],
      [`${name}.branch_pool`, 192, 768, 1, 1],
    );
  c('Mixed_6b', 128);
  c('Mixed_6c', 160);
  c('Mixed_6d', 160);
  c('Mixed_6e', 192);
  t.push(
    ['Mixed_7a.branch3x3_1', 192, 768, 1, 1],
    ['Mixed_7a.branch3x3_2', 320, 192, 3, 3],
    ['Mixed_7a.branch7x7x3_1', 192, 768, 1, 1],
    ['Mixed_7a.branch7x7x3_2', 192, 192, 1, 7],
    ['Mixed_7a.branch7x7x3_3', 192, 192, 7, 1],
    ['Mixed_7a.branch7x7x3_4', 192, 192, 3, 3],
  );
  const e = (name: string, cin: number) =>
    t.push(
      [`${name}.branch1x1`, 320, cin, 1, 1],
      [`${name}.branch3x3_1`, 384, cin, 1, 1],
      [`${name}.branch3x3_2a`, 384, 384, 1, 3],
      [`${name}.branch3x3_2b`, 384, 384, 3, 1],
      [`${name}.branch3x3dbl_1`, 448, cin, 1, 1],
      [`${name}.branch3x3dbl_2`, 384, 448, 3, 3],
      [`${name}.branch3x3dbl_3a`, 384, 384, 1, 3],
      [`${name}.branch3x3dbl_3b`, 384, 384, 3, 1],
      [`${name}.branch_pool`, 192, cin, 1, 1],
    );
  e('Mixed_7b', 1280);
  e('Mixed_7c', 2048);
  return t;
}

/**
 * Build the network's tensors from pytorch-fid state-dict names (the keys of
 * pt_inception-2015-12-05-6726825d.pth, or the same names in a safetensors file). Each
 * conv's batch norm (eval mode, eps 1e-3) is folded into the conv in float64: the filter is
 * scaled per output channel and the shift becomes a bias. OIHW -> HWIO on the way.
 * Names may carry a common prefix such as "module." or "inception." (it is stripped).
 */
export function foldFidInceptionWeights(raw: Map<string, HostTensor>, file = '<weights>'): FidInceptionWeights {
  const sd = stripPrefix(raw);
  const get = (name: string, shape: readonly number[]): Float32Array => {
    const t = sd.get(name);
    if (!t) throw new TensorFileError(file, `missing FID Inception parameter (expected pytorch-fid's fid_inception_v3 state-dict names)`, name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new TensorFileError(file, `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, name);
    }
    return t.dtype === 'F16' ? halfToFloat(t.data as Uint16Array) : toFloat32(t);
  };
  const convs = new Map<string, FoldedConv>();
  try {
    for (const [name, o, i, kh, kw] of FID_INCEPTION_CONVS) {
      const w = get(`${name}.conv.weight`, [o, i, kh, kw]);
      const gamma = get(`${name}.bn.weight`, [o]);
      const beta = get(`${name}.bn.bias`, [o]);
      const mean = get(`${name}.bn.running_mean`, [o]);
      const variance = get(`${name}.bn.running_var`, [o]);
      const scale = new Float64Array(o);
      const bias = new Float32Array(o);
      for (let c = 0; c < o; c++) {
        scale[c] = gamma[c] / Math.sqrt(variance[c] + INCEPTION_BN_EPS);
        bias[c] = beta[c] - mean[c] * scale[c];
      }
      const hwio = new Float32Array(o * i * kh * kw);
      for (let oc = 0; oc < o; oc++) {
        for (let ic = 0; ic < i; ic++) {
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) hwio[((y * kw + x) * i + ic) * o + oc] = w[((oc * i + ic) * kh + y) * kw + x] * scale[oc];
          }
        }
      }
      convs.set(name, { filter: tf.tensor4d(hwio, [kh, kw, i, o]), bias: tf.tensor1d(bias), kernel: [kh, kw] });
    }
    const fc = get('fc.weight', [1008, 2048]);
    const fcT = new Float32Array(2048 * 1008);
    for (let r = 0; r < 1008; r++) for (let c = 0; c < 2048; c++) fcT[c * 1008 + r] = fc[r * 2048 + c];
    return { convs, fcWeight: tf.tensor2d(fcT, [2048, 1008]), fcBias: tf.tensor1d(get('fc.bias', [1008])) };
  } catch (e) {
    for (const c of convs.values()) tf.dispose([c.filter, c.bias]);
    throw e;
  }
}

let halfTable: Float32Array | undefined;

/** float16 bits -> float32 through a 64k-entry table (the fixture's 24M half weights). */
function halfToFloat(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = f16ToF32(i);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]];
  return out;
}

function stripPrefix(raw: Map<string, HostTensor>): Map<string, HostTensor> {
  if (raw.has('fc.weight')) return raw;
  const key = [...raw.keys()].find((k) => k.endsWith('Conv2d_1a_3x3.conv.weight'));
  if (!key) return raw;
  const prefix = key.slice(0, -'Conv2d_1a_3x3.conv.weight'.length);
  const out = new Map<string, HostTensor>();
  for (const [k, v] of raw) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

export function disposeFidInceptionWeights(w: FidInceptionWeights): void {
  for (const c of w.convs.values()) tf.dispose([c.filter, c.bias]);
  tf.dispose([w.fcWeight, w.fcBias]);
}
