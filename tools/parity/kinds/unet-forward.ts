// Kind `unet_forward`: build guided-diffusion's UNetModel from case.json's resolved
// kwargs, load the `model.*` weights, run the forward pass, compare `out.output`.
import * as tf from '@tensorflow/tfjs';
import { hostToTensor, nchwHostToNhwc, nhwcToNchwData, type HostTensor } from '@adm/core';
import { UNetModel, loadStateDict, type UNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { forwardTolerance } from './unet-common.js';

export const tolerances: Record<string, Tolerance> = {
  'out.output': { abs: 0, rel: 0, why: 'read from case.json: 4 x f64_reference max_abs_diff (float32 with another operation order drifts about as far as the stored float32 values do from float64)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const spec = ctx.spec;
  const kwargs = spec.model_resolved.kwargs as UNetKwargs;
  const model = new UNetModel(kwargs, { init: 'zeros' });
  try {
    loadStateDict(model, file.withPrefix(spec.weights_prefix ?? 'model.'), `${ctx.rel}/tensors.safetensors`);
    await compareForward(ctx, model, (n) => file.get(n), (n) => file.has(n));
  } finally {
    model.dispose();
  }
}

/** Runs model(in.x, in.t[, y=in.y]) and compares with out.output (shared with checkpoint_pt). */
export async function compareForward(ctx: CaseContext, model: UNetModel, get: (name: string) => HostTensor, has: (name: string) => boolean, tol?: Tolerance): Promise<void> {
  const x = nchwHostToNhwc(get('in.x'), 'in.x');
  const t = tf.tidy(() => tf.cast(hostToTensor(get('in.t')), 'float32')) as tf.Tensor1D;
  const y = has('in.y') ? (hostToTensor(get('in.y')) as tf.Tensor1D) : undefined;
  try {
    const out = model.apply(x, t, y ? { y } : {});
    const expected = get('out.output');
    ctx.check.close('out.output', await nhwcToNchwData(out), expected, tol ?? forwardTolerance(ctx.spec, 'out.output'), [out.shape[0], out.shape[3], out.shape[1], out.shape[2]]);
    out.dispose();
  } finally {
    tf.dispose([x, t, ...(y ? [y] : [])]);
  }
}
