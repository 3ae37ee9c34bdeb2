import * as tf from '@tensorflow/tfjs';
import { type HostTensor, nhwcToNchwData, toInt32 } from '@adm/core';
import { FidInceptionV3, type InceptionPreprocessing, preprocessImages } from '@adm/eval';
import type { CaseContext, Tolerance } from '../types.js';

// The FID Inception-v3 end to end: uint8 images -> preprocessing -> network -> pool3,
// logits (with and without bias), mixed_6/conv[..., :7], against pytorch-fid in float32.
export const tolerances: Record<string, Tolerance> = {
  'out.resized': { abs: 1e-5, precision: 'float32', why: "case.json suggested_for_float32_reimplementation.strict_cpu_wasm_node (float32 vs float64 resize: 1.6e-6)" },
  'out.pool3': { abs: 1e-4, rel: 1e-4, precision: 'float32', why: 'case.json strict tier: float32 summation order differs between backends (measured few 1e-6); batch norm folded into the convs adds ~1e-7 relative' },
  'out.logits': { abs: 1e-4, rel: 1e-4, precision: 'float32', why: 'as out.pool3' },
  'out.logits_nobias': { abs: 1e-4, rel: 1e-4, precision: 'float32', why: 'as out.pool3' },
  'out.spatial': { abs: 1e-4, rel: 1e-4, precision: 'float32', why: 'as out.pool3' },
};

/** Which preprocessing case.json describes (its resize semantics and normalization). */
function preprocessingOf(spec: Record<string, any>): InceptionPreprocessing {
  const p = spec.preprocessing ?? {};
  const r = p.resize ?? {};
  const halfPixel = r.align_corners === false && /half-pixel/i.test(String(r.semantics ?? r.tfjs_equivalent ?? ''));
  const norm = String(p.normalization ?? '');
  if (halfPixel && /2\s*\*\s*x\s*-\s*1/.test(norm)) return 'pytorch-fid';
  if (!halfPixel && /128/.test(norm)) return 'evaluator';
  throw new Error(`inception_fid: unsupported preprocessing in case.json: ${JSON.stringify(p)}`);
}

export async function run(ctx: CaseContext): Promise<void> {
  const weightsFile = ctx.spec.files?.weights ?? 'weights.safetensors';
  const tensorsFile = ctx.spec.files?.tensors ?? 'tensors.safetensors';
  const wf = await ctx.file(weightsFile);
  const tf_ = await ctx.file(tensorsFile);
  const net = FidInceptionV3.fromStateDict(new Map(wf.names().map((n) => [n, wf.get(n)])), weightsFile);
  const mode = preprocessingOf(ctx.spec);
  const tol = (name: string): Tolerance => {
    const s = ctx.spec.tolerances?.suggested_for_float32_reimplementation?.strict_cpu_wasm_node?.[name];
    return s ? { abs: s.atol, rel: s.rtol, precision: 'float32' } : tolerances[name];
  };
  const imagesH: HostTensor = tf_.get('in.images');
  const images = tf.tensor4d(toInt32(imagesH), imagesH.shape as [number, number, number, number], 'int32');
  const before = tf.memory().numTensors;
  try {
    if (tf_.has('out.resized')) {
      const x = preprocessImages(images, mode);
      const exp = tf_.get('out.resized');
      ctx.check.close('out.resized', await nhwcToNchwData(x), exp, tol('out.resized'), [x.shape[0], x.shape[3], x.shape[1], x.shape[2]]);
      x.dispose();
    }
    const out = net.run(images, mode);
    const pairs: Array<[string, tf.Tensor]> = [
      ['out.pool3', out.pool3],
      ['out.logits', out.logits],
      ['out.logits_nobias', out.logitsNoBias],
    ];
    for (const [name, t] of pairs) if (tf_.has(name)) ctx.check.close(name, (await t.data()) as Float32Array, tf_.get(name), tol(name), t.shape);
    if (tf_.has('out.spatial')) {
      const s = out.spatial;
      ctx.check.close('out.spatial', await nhwcToNchwData(s), tf_.get('out.spatial'), tol('out.spatial'), [s.shape[0], s.shape[3], s.shape[1], s.shape[2]]);
    }
    tf.dispose([out.pool3, out.logits, out.logitsNoBias, out.spatial]);
    if (tf.memory().numTensors !== before) ctx.check.fail(`inception forward leaked ${tf.memory().numTensors - before} tensors`);
  } finally {
    images.dispose();
    net.dispose();
  }
}
