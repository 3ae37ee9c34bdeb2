// Kind `classifier`: guided-diffusion's EncoderUNetModel built from case.json's
// classifier_call kwargs, `classifier.*` weights; compares logits, log_softmax and the
// classifier-guidance gradient (cond_fn of scripts/classifier_sample.py) at the case's scale.
import * as tf from '@tensorflow/tfjs';
import { hostToTensor, nchwHostToNhwc, nhwcToNchwData } from '@adm/core';
import { EncoderUNetModel, classifierGuidanceGradient, loadStateDict, type EncoderUNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { forwardTolerance } from './unet-common.js';

const why = 'read from case.json: 4 x f64_reference max_abs_diff';
export const tolerances: Record<string, Tolerance> = {
  'out.logits': { abs: 0, why },
  'out.log_probs': { abs: 0, why },
  'out.grad_x': { abs: 0, why },
};

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const spec = ctx.spec;
  const call = spec.classifier_call ?? spec.model_call;
  const model = new EncoderUNetModel(call.kwargs as EncoderUNetKwargs, { init: 'zeros' });
  const x = nchwHostToNhwc(file.get('in.x'), 'in.x');
  const t = tf.tidy(() => tf.cast(hostToTensor(file.get('in.t')), 'float32')) as tf.Tensor1D;
  const y = hostToTensor(file.get('in.y')) as tf.Tensor1D;
  try {
    loadStateDict(model, file.withPrefix(spec.weights_prefix ?? 'classifier.'), `${ctx.rel}/tensors.safetensors`);
    const logits = model.apply(x, t);
    const logProbs = tf.logSoftmax(logits);
    ctx.check.close('out.logits', await logits.data(), file.get('out.logits'), forwardTolerance(spec, 'out.logits'), logits.shape);
    ctx.check.close('out.log_probs', await logProbs.data(), file.get('out.log_probs'), forwardTolerance(spec, 'out.log_probs'), logProbs.shape);
    tf.dispose([logits, logProbs]);
    const scale = Number(spec.classifier_scale);
    if (!Number.isFinite(scale)) throw new Error(`${ctx.rel}: case.json has no numeric classifier_scale`);
    const grad = classifierGuidanceGradient(model, x, t, y, scale);
    const g = grad.shape;
    ctx.check.close('out.grad_x', await nhwcToNchwData(grad), file.get('out.grad_x'), forwardTolerance(spec, 'out.grad_x'), [g[0], g[3], g[1], g[2]]);
    grad.dispose();
  } finally {
    tf.dispose([x, t, y]);
    model.dispose();
  }
}
