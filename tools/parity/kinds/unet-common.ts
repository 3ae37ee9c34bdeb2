// Helpers shared by the network parity kinds (unet_forward, classifier, checkpoint_pt, superres_forward).
import * as tf from '@tensorflow/tfjs';
import { hostToTensor, nchwHostToNhwc, nhwcToNchwData, type Conditioning, type HostTensor } from '@adm/core';
import {
  EncoderUNetModel,
  SuperResModel,
  UNetModel,
  classifierGuidanceGradient,
  createModel,
  createSuperResModel,
  type EncoderUNetKwargs,
  type ModelFlags,
  type UNetKwargs,
} from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';

/**
 * Tolerance of one output from case.json's f64_reference: the stored float32 values are
 * themselves up to max_abs_diff away from the exact result, and a float32 implementation
 * with another operation order drifts by a similar amount, so allow a few multiples of it.
 */
export function forwardTolerance(spec: Record<string, any>, output: string, factor = 4): Tolerance {
  const ref = spec.f64_reference?.[output];
  if (!ref || typeof ref.max_abs_diff !== 'number') throw new Error(`case.json has no f64_reference for ${output}`);
  return { abs: factor * ref.max_abs_diff, precision: 'float32', why: `${factor} x f64_reference max_abs_diff` };
}

/**
 * The network a case.json describes: `classifier_call` -> EncoderUNetModel; a
 * SuperResModel call -> SuperResModel; otherwise a UNetModel from `model_resolved.kwargs`,
 * or from `model_call.kwargs` as create_model flags (with script_util.NUM_CLASSES).
 */
export function networkFromSpec(spec: Record<string, any>): { model: UNetModel | SuperResModel | EncoderUNetModel; type: 'unet' | 'superres' | 'classifier'; prefix: string } {
  if (spec.classifier_call?.kwargs) {
    return { model: new EncoderUNetModel(spec.classifier_call.kwargs as EncoderUNetKwargs, { init: 'zeros' }), type: 'classifier', prefix: spec.weights_prefix ?? 'classifier.' };
  }
  const prefix = spec.weights_prefix ?? 'model.';
  const fn = String(spec.model_call?.function ?? '');
  if (fn.endsWith('SuperResModel')) return { model: new SuperResModel(spec.model_call.kwargs as UNetKwargs, { init: 'zeros' }), type: 'superres', prefix };
  if (String(spec.model_resolved?.class ?? '').endsWith('SuperResModel')) {
    return { model: new SuperResModel(spec.model_resolved.kwargs as UNetKwargs, { init: 'zeros' }), type: 'superres', prefix };
  }
  if (spec.model_resolved?.kwargs) return { model: new UNetModel(spec.model_resolved.kwargs as UNetKwargs, { init: 'zeros' }), type: 'unet', prefix };
  if (fn.endsWith('sr_create_model')) return { model: createSuperResModel(withNumClasses(spec.model_call), { init: 'zeros' }), type: 'superres', prefix };
  if (fn.endsWith('UNetModel')) return { model: new UNetModel(spec.model_call.kwargs as UNetKwargs, { init: 'zeros' }), type: 'unet', prefix };
  if (spec.model_call?.kwargs) return { model: createModel(withNumClasses(spec.model_call), { init: 'zeros' }), type: 'unet', prefix };
  throw new Error('case.json describes no network (model_resolved, model_call or classifier_call)');
}

function withNumClasses(call: Record<string, any>): ModelFlags {
  const n = call['script_util.NUM_CLASSES'];
  return typeof n === 'number' ? { ...call.kwargs, num_classes: n } : { ...call.kwargs };
}

const nchwShape = (t: tf.Tensor4D) => [t.shape[0], t.shape[3], t.shape[1], t.shape[2]];

/**
 * Runs a network on a case's `in.*` tensors and compares every expected output present:
 * out.output (UNet, SuperRes; plus out.upsampled), or out.logits / out.log_probs /
 * out.grad_x (classifier; grad_x at case.json's classifier_scale). `tol` gives each
 * output's tolerance.
 */
export async function compareNetworkOutputs(
  ctx: CaseContext,
  net: ReturnType<typeof networkFromSpec>,
  get: (name: string) => HostTensor,
  has: (name: string) => boolean,
  tol: (output: string) => Tolerance,
): Promise<void> {
  const x = nchwHostToNhwc(get('in.x'), 'in.x');
  const t = tf.tidy(() => tf.cast(hostToTensor(get('in.t')), 'float32')) as tf.Tensor1D;
  const y = has('in.y') ? (hostToTensor(get('in.y')) as tf.Tensor1D) : undefined;
  const owned: tf.Tensor[] = [x, t, ...(y ? [y] : [])];
  try {
    if (net.model instanceof EncoderUNetModel) {
      const logits = net.model.apply(x, t);
      const logProbs = tf.logSoftmax(logits);
      owned.push(logits, logProbs);
      if (has('out.logits')) ctx.check.close('out.logits', await logits.data(), get('out.logits'), tol('out.logits'), logits.shape);
      if (has('out.log_probs')) ctx.check.close('out.log_probs', await logProbs.data(), get('out.log_probs'), tol('out.log_probs'), logProbs.shape);
      if (has('out.grad_x')) {
        const scale = Number(ctx.spec.classifier_scale ?? 1);
        if (!y) throw new Error(`${ctx.rel}: out.grad_x needs labels in.y`);
        const grad = classifierGuidanceGradient(net.model, x, t, y, scale);
        owned.push(grad);
        ctx.check.close('out.grad_x', await nhwcToNchwData(grad), get('out.grad_x'), tol('out.grad_x'), nchwShape(grad));
      }
      return;
    }
    const cond: Conditioning = y ? { y } : {};
    if (net.model instanceof SuperResModel) {
      const lowRes = nchwHostToNhwc(get('in.low_res'), 'in.low_res');
      owned.push(lowRes);
      cond.lowRes = lowRes;
      if (has('out.upsampled')) {
        const up = net.model.upsample(lowRes, x.shape[1], x.shape[2]);
        owned.push(up);
        ctx.check.close('out.upsampled', await nhwcToNchwData(up), get('out.upsampled'), tol('out.upsampled'), nchwShape(up));
      }
    }
    const out = net.model.apply(x, t, cond);
    owned.push(out);
    ctx.check.close('out.output', await nhwcToNchwData(out), get('out.output'), tol('out.output'), nchwShape(out));
  } finally {
    tf.dispose(owned);
  }
}
