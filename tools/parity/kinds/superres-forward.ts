// Kind `superres_forward`: guided-diffusion's SuperResModel from case.json's model_call
// kwargs, `model.*` weights; compares the bilinear upsampling of in.low_res alone and the
// forward pass model(in.x, in.t, low_res=in.low_res).
import * as tf from '@tensorflow/tfjs';
import { hostToTensor, nchwHostToNhwc, nhwcToNchwData } from '@adm/core';
import { SuperResModel, loadStateDict, type UNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { forwardTolerance } from './unet-common.js';

const why = 'read from case.json: 4 x f64_reference max_abs_diff';
export const tolerances: Record<string, Tolerance> = {
  'out.upsampled': { abs: 0, why },
  'out.output': { abs: 0, why },
};

const nchwShape = (t: tf.Tensor4D) => [t.shape[0], t.shape[3], t.shape[1], t.shape[2]];

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const spec = ctx.spec;
  // SuperResModel's own kwargs (in_channels = channels of x); sr_create_model-style calls resolve to them.
  const call = String(spec.model_call?.function ?? '').endsWith('SuperResModel') ? spec.model_call : (spec.model_resolved ?? spec.model_call);
  const kwargs = call.kwargs as UNetKwargs;
  const model = new SuperResModel(kwargs, { init: 'zeros' });
  const x = nchwHostToNhwc(file.get('in.x'), 'in.x');
  const lowRes = nchwHostToNhwc(file.get('in.low_res'), 'in.low_res');
  const t = tf.tidy(() => tf.cast(hostToTensor(file.get('in.t')), 'float32')) as tf.Tensor1D;
  const y = file.has('in.y') ? (hostToTensor(file.get('in.y')) as tf.Tensor1D) : undefined;
  try {
    loadStateDict(model, file.withPrefix(spec.weights_prefix ?? 'model.'), `${ctx.rel}/tensors.safetensors`);
    if (file.has('out.upsampled')) {
      const up = model.upsample(lowRes, x.shape[1], x.shape[2]);
      ctx.check.close('out.upsampled', await nhwcToNchwData(up), file.get('out.upsampled'), forwardTolerance(spec, 'out.upsampled'), nchwShape(up));
      up.dispose();
    }
    const out = model.apply(x, t, { lowRes, ...(y ? { y } : {}) });
    ctx.check.close('out.output', await nhwcToNchwData(out), file.get('out.output'), forwardTolerance(spec, 'out.output'), nchwShape(out));
    out.dispose();
  } finally {
    tf.dispose([x, lowRes, t, ...(y ? [y] : [])]);
    model.dispose();
  }
}
