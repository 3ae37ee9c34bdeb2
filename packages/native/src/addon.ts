import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The functions of the compiled addon (addon/src/*.cc). Arrays are float32, channels last; outputs are passed in and returned. */
export interface NativeAddon {
  info(): { onednn: string; cpuRuntime: string; threads: number; isa: number };
  setThreads(threads: number): void;
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, activation: number, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  convImplementations(): Record<string, string>;
  matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, activation: number, batchA: number, batchB: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, out: Float32Array): Float32Array;
  binary(op: number, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], outShape: number[], out: Float32Array): Float32Array;
  unary(op: number, x: Float32Array, out: Float32Array): Float32Array;
  siluGrad(x: Float32Array, dy: Float32Array, out: Float32Array): Float32Array;
  reduce(op: number, x: Float32Array, shape: number[], axes: number[], out: Float32Array): Float32Array;
  softmax(logits: Float32Array, rows: number, depth: number, out: Float32Array): Float32Array;
  transpose(x: Float32Array, shape: number[], perm: number[], out: Float32Array): Float32Array;
  copyBlock(src: Float32Array, srcShape: number[], srcBegin: number[], dst: Float32Array, dstShape: number[], dstBegin: number[], size: number[]): Float32Array;
  groupNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, n: number, s: number, c: number, groups: number, eps: number, silu: boolean, y: Float32Array, mean: Float32Array, rstd: Float32Array): [Float32Array, Float32Array, Float32Array];
  groupNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, rstd: Float32Array, n: number, s: number, c: number, groups: number, silu: boolean, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): [Float32Array, Float32Array, Float32Array];
}

/** Where `npm run build:native -w @adm/native` puts the addon (src/ and dist/ sit one level below the package root). */
export function addonPath(): string {
  return process.env.ADM_NATIVE_ADDON ?? fileURLToPath(new URL('../addon/build/Release/adm_native.node', import.meta.url));
}

const HOW_TO_BUILD =
  'build it with `apt-get install -y libdnnl-dev g++ make python3` then `npm run build:native -w @adm/native`';

let loaded: NativeAddon | string | undefined;

/** The addon, or one line saying what is missing and how to get it. Loaded once. */
export function loadAddon(): NativeAddon | string {
  if (loaded !== undefined) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    loaded = `the native addon is not built (${path} is missing): ${HOW_TO_BUILD}`;
    return loaded;
  }
  // OpenMP threads that spin while waiting starve each other (and everything else) on a
  // loaded machine: 5-8x slower kernels measured on 2 shared cores. Sleep instead unless
  // the user chose otherwise. Read by libgomp when the addon loads it, so set it first.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    loaded = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const hint = /libdnnl/.test(msg) ? 'oneDNN is not installed (apt-get install -y libdnnl2)' : HOW_TO_BUILD;
    loaded = `the native addon at ${path} does not load (${msg}): ${hint}`;
  }
  return loaded;
}
