// Kind `training_step`: one guided-diffusion TrainLoop step of a UNet (hybrid loss):
// loss and per-example terms, every parameter's gradient, the AdamW step and the EMA.
import * as tf from '@tensorflow/tfjs';
import { createGaussianDiffusion, type HostTensor, nchwHostToNhwc, nhwcToNchwData, toFloat32, toInt32 } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { namedGradients, parseEmaRates } from '@adm/train';
import { internalToTorch, loadStateDict, UNetModel, type UNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { adamwOptions, checkOptimizerStep, gradTolerance, refTolerance, ULP } from './training-common.js';

export const tolerances: Record<string, Tolerance> = {
  'out.*': { abs: 0, precision: 'float32', why: '4 x f64_reference max_abs_diff of each output' },
  'grad.*': { abs: 0, precision: 'float32', why: '4 x f64_reference max_abs_diff of each gradient, at least 1/50 of the largest gradient drift of the case (near-zero gradients are cancellation noise)' },
  'after.* (stored grad)': { abs: 0, rel: 2 * ULP, precision: 'float32', why: 'AdamW re-stated in PyTorch float32 order: bit-exact on IEEE backends; 2 ulp for backends with inexact division/sqrt' },
  'after.* (own grad)': { abs: 0, precision: 'float32', why: 'must lie in the AdamW step band spanned by grad.* +- its gradient tolerance (first Adam step is sign-like)' },
  'ema.*': { abs: 0, precision: 'float32', why: 'within 1 ulp of each product and of the result: this EMA rounds the product before the add, PyTorch fuses them (case.json ema_unfused_check)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const spec = ctx.spec;
  const st = await ctx.tensors();
  const prefix = spec.weights_prefix ?? 'model.';
  const model = new UNetModel(spec.model_resolved.kwargs as UNetKwargs, { init: 'zeros' });
  const before = st.withPrefix(prefix);
  loadStateDict(model, before, `${ctx.rel}/tensors.safetensors`);
  model.training = true;
  const diffusion = createGaussianDiffusion(spec.diffusion_call.kwargs, scheduleFactory);
  const x0 = nchwHostToNhwc(st.get('in.x_start'), 'in.x_start');
  const noise = nchwHostToNhwc(st.get('in.noise'), 'in.noise');
  const t = toInt32(st.get('in.t'));
  const y = st.has('in.y') ? tf.tensor1d(toInt32(st.get('in.y')), 'int32') : undefined;
  const weights = st.has('in.weights') ? toFloat32(st.get('in.weights')) : new Float32Array(t.length).fill(1);
  const cond = y ? { y } : undefined;
  const tolOf = (name: string) => refTolerance(spec, name, 4);
  const nchwShape = (s: readonly number[]) => [s[0], s[3], s[1], s[2]];
  try {
    if (st.has('out.x_t')) {
      const xt = diffusion.qSample(x0, t, noise);
      ctx.check.close('out.x_t', await nhwcToNchwData(xt), st.get('out.x_t'), tolOf('out.x_t'), nchwShape(xt.shape));
      if (st.has('out.model_output')) {
        const mt = diffusion.modelTimesteps(t);
        const out = model.apply(xt, mt, cond);
        ctx.check.close('out.model_output', await nhwcToNchwData(out), st.get('out.model_output'), tolOf('out.model_output'), nchwShape(out.shape));
        tf.dispose([mt, out]);
      }
      xt.dispose();
    }
    const terms: Record<string, tf.Tensor> = {};
    const params = model.parameters();
    const { value, grads } = namedGradients(() => {
      const out = diffusion.trainingLosses(model, x0, t, { cond, noise });
      for (const [k, v] of Object.entries(out)) if (v) terms[k] = tf.keep(v);
      return tf.mean(tf.mul(out.loss, tf.tensor1d(weights))) as tf.Scalar;
    }, params);
    ctx.check.close('out.loss', await value.data(), st.get('out.loss'), tolOf('out.loss'), []);
    for (const k of ['loss', 'mse', 'vb']) {
      const name = `out.terms.${k}`;
      if (!st.has(name)) continue;
      if (!terms[k]) ctx.check.fail(`${name}: training_losses returned no "${k}" term`);
      else ctx.check.close(name, await terms[k].data(), st.get(name), tolOf(name), terms[k].shape);
    }
    tf.dispose([value, ...Object.values(terms)]);

    // Gradients back in PyTorch layouts.
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

    const loop = spec.train_loop ?? {};
    const stored = new Map<string, HostTensor>(names.map((n) => [n, st.get(`grad.${n}`)]));
    checkOptimizerStep(ctx, {
      names,
      before,
      storedGrads: stored,
      ownGrads: own,
      gradTol: (n) => gradTolerance(spec, `grad.${n}`).abs,
      after: (n) => st.get(`after.${n}`),
      opts: adamwOptions(loop),
      afterTol: tolerances['after.* (stored grad)'],
      // ema_rate may be a number, "0.9999" or a list: ema.* holds the first rate's copy.
      ema: loop.ema_rate !== undefined && st.has(`ema.${names[0]}`) ? { rate: parseEmaRates(loop.ema_rate)[0], expected: (n) => st.get(n) } : undefined,
    });
  } finally {
    tf.dispose([x0, noise, ...(y ? [y] : [])]);
    model.dispose();
  }
}
