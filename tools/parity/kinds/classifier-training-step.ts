// Kind `classifier_training_step`: one scripts/classifier_train.py step of a noisy
// classifier: x_t = q_sample, logits, cross-entropy, acc@1/acc@5, every parameter's
// gradient and the AdamW (weight decay) step.
import * as tf from '@tensorflow/tfjs';
import { createGaussianDiffusion, type HostTensor, nchwHostToNhwc, nhwcToNchwData, toInt32 } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { crossEntropy, namedGradients, topKHits } from '@adm/train';
import { EncoderUNetModel, internalToTorch, loadStateDict, type EncoderUNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { adamwOptions, checkOptimizerStep, gradTolerance, refTolerance, ULP } from './training-common.js';

export const tolerances: Record<string, Tolerance> = {
  'out.*': { abs: 0, precision: 'float32', why: '4 x f64_reference max_abs_diff of each output' },
  'out.acc@k': { abs: 0, precision: 'exact', why: 'identical in float64 (case.json tolerance_note)' },
  'grad.*': { abs: 0, precision: 'float32', why: '4 x f64_reference max_abs_diff of each gradient, at least 1/50 of the largest gradient drift of the case (near-zero gradients are cancellation noise)' },
  'after.* (stored grad)': { abs: 0, rel: 2 * ULP, precision: 'float32', why: 'AdamW re-stated in PyTorch float32 order: bit-exact on IEEE backends; 2 ulp for backends with inexact division/sqrt' },
  'after.* (own grad)': { abs: 0, precision: 'float32', why: 'must lie in the AdamW step band spanned by grad.* +- its gradient tolerance (first Adam step is sign-like)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const spec = ctx.spec;
  const st = await ctx.tensors();
  const call = spec.classifier_call ?? spec.model_call;
  const prefix = spec.weights_prefix ?? 'classifier.';
  const model = new EncoderUNetModel(call.kwargs as EncoderUNetKwargs, { init: 'zeros' });
  const before = st.withPrefix(prefix);
  loadStateDict(model, before, `${ctx.rel}/tensors.safetensors`);
  model.training = true;
  const diffusion = createGaussianDiffusion(spec.diffusion_call.kwargs, scheduleFactory);
  const x0 = nchwHostToNhwc(st.get('in.x_start'), 'in.x_start');
  // noised=False trains on clean images at t = 0 (classifier_train.py).
  const noise = st.has('in.noise') ? nchwHostToNhwc(st.get('in.noise'), 'in.noise') : undefined;
  const tIdx = st.has('in.t') ? toInt32(st.get('in.t')) : new Int32Array(x0.shape[0]);
  const labels = toInt32(st.get('in.y'));
  const y = tf.tensor1d(labels, 'int32');
  const tolOf = (name: string) => refTolerance(spec, name, 4);
  // The classifier sees the original step index (no respacing in these cases).
  const modelT = diffusion.modelTimesteps(tIdx);
  const xt = noise ? diffusion.qSample(x0, tIdx, noise) : x0.clone();
  try {
    const xs = xt.shape;
    if (st.has('out.x_t')) ctx.check.close('out.x_t', await nhwcToNchwData(xt), st.get('out.x_t'), tolOf('out.x_t'), [xs[0], xs[3], xs[1], xs[2]]);
    let logits: tf.Tensor2D | undefined;
    let perExample: tf.Tensor1D | undefined;
    const { value, grads } = namedGradients(() => {
      const lg = model.apply(xt, modelT);
      const ce = crossEntropy(lg, y);
      logits = tf.keep(lg);
      perExample = tf.keep(ce);
      return tf.mean(ce) as tf.Scalar;
    }, model.parameters());
    ctx.check.close('out.logits', await logits!.data(), st.get('out.logits'), tolOf('out.logits'), logits!.shape);
    ctx.check.close('out.loss_per_example', await perExample!.data(), st.get('out.loss_per_example'), tolOf('out.loss_per_example'), perExample!.shape);
    ctx.check.close('out.loss', await value.data(), st.get('out.loss'), tolOf('out.loss'), []);
    const lv = (await logits!.data()) as Float32Array;
    const K = logits!.shape[1];
    for (const name of st.names().filter((n) => /^out\.acc@\d+$/.test(n))) {
      const k = Number(name.slice('out.acc@'.length));
      ctx.check.close(name, topKHits(lv, K, labels, k), st.get(name), tolerances['out.acc@k'], [labels.length]);
    }
    tf.dispose([value, logits!, perExample!]);

    const entries = model.parameterEntries();
    const names = [...entries.keys()];
    const own = new Map<string, Float32Array>();
    for (const [name, e] of entries) {
      const g = grads.get(name);
      const data = g ? internalToTorch(e.layout, e.torchShape, g.dataSync() as Float32Array) : new Float32Array(e.variable.size);
      own.set(name, data);
      if (st.has(`grad.${name}`)) ctx.check.close(`grad.${name}`, data, st.get(`grad.${name}`), gradTolerance(spec, `grad.${name}`), e.torchShape);
      else ctx.check.fail(`grad.${name} missing from the case`);
    }
    tf.dispose([...grads.values()]);
    const script = spec.train_script ?? spec.train_loop ?? {};
    checkOptimizerStep(ctx, {
      names,
      before,
      storedGrads: new Map<string, HostTensor>(names.map((n) => [n, st.get(`grad.${n}`)])),
      ownGrads: own,
      gradTol: (n) => gradTolerance(spec, `grad.${n}`).abs,
      after: (n) => st.get(`after.${n}`),
      opts: adamwOptions(script),
      afterTol: tolerances['after.* (stored grad)'],
    });
  } finally {
    tf.dispose([x0, ...(noise ? [noise] : []), y, modelT, xt]);
    model.dispose();
  }
}
