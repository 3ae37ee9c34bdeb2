// Helpers shared by the training parity kinds (training_step, classifier_training_step):
// gradients and optimizer steps compared in PyTorch layouts.
import * as tf from '@tensorflow/tfjs';
import { type HostTensor, toFloat32 } from '@adm/core';
import { AdamW, type AdamWOptions } from '@adm/train';
import type { CaseContext, Tolerance } from '../types.js';

/** A network whose parameters know their PyTorch layouts (@adm/unet's models). */
export interface LayoutAware {
  parameterEntries(): Map<string, { variable: tf.Variable; layout: any; torchShape: number[] }>;
}

/** 1 float32 ulp relative (2^-23): the EMA's unfused multiply-add may differ from PyTorch's FMA by that. */
export const ULP = 1.1920928955078125e-7;

/** torch.optim.AdamW's arguments from case.json (lr, weight_decay; torch 1.13 defaults otherwise). */
export function adamwOptions(section: Record<string, any>): AdamWOptions {
  return { lr: Number(section.lr), weightDecay: Number(section.weight_decay ?? 0.01), beta1: 0.9, beta2: 0.999, eps: 1e-8 };
}

/** The tolerance of a gradient/output from f64_reference: `factor` x its max_abs_diff, at least `floor`. */
export function refTolerance(spec: Record<string, any>, name: string, factor: number, floor = 0): Tolerance {
  const ref = spec.f64_reference?.[name];
  if (!ref || typeof ref.max_abs_diff !== 'number') throw new Error(`case.json has no f64_reference for ${name}`);
  return { abs: Math.max(factor * ref.max_abs_diff, floor), precision: 'float32', why: `${factor} x f64_reference max_abs_diff (floor ${floor})` };
}

/**
 * The gradient tolerance: 4 x the tensor's f64 drift, at least 1/50 of the largest drift of
 * any gradient in the case. The floor matters for gradients whose exact value is ~0 (e.g. a
 * conv bias followed by GroupNorm with one channel per group): there the float32 value is
 * pure cancellation noise whose size depends on the backend's summation order.
 */
export function gradTolerance(spec: Record<string, any>, name: string): Tolerance {
  const worst = Number(spec.f64_reference_summary?.['grad.']?.max_abs_diff ?? 0);
  return refTolerance(spec, name, 4, worst / 50);
}

/** One AdamW step on host tensors (PyTorch layout: the update is element-wise, layout-free). */
export function adamwStepHost(params: Map<string, HostTensor>, grads: Map<string, Float32Array>, opts: AdamWOptions): Map<string, Float32Array> {
  const vars = new Map<string, tf.Variable>();
  for (const [name, h] of params) vars.set(name, tf.variable(tf.tensor(toFloat32(h), h.shape, 'float32'), false));
  const g = new Map<string, tf.Tensor>();
  for (const [name, data] of grads) g.set(name, tf.tensor(data, params.get(name)!.shape, 'float32'));
  const opt = new AdamW(vars, opts);
  opt.step(g);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of vars) out.set(name, v.dataSync() as Float32Array);
  opt.dispose();
  tf.dispose([...vars.values(), ...g.values()]);
  return out;
}

/** guided-diffusion's update_ema on host arrays: ema = model * rate + after * (1 - rate), through the same tensor code as EmaParams. */
export function emaHost(model: Float32Array, after: Float32Array, rate: number): Float32Array {
  return tf.tidy(() => tf.add(tf.mul(tf.tensor1d(model), rate), tf.mul(tf.tensor1d(after), 1 - rate)).dataSync() as Float32Array);
}

/** Band excesses are compared with zeros: the slack already holds the float32 rounding. */
const BAND: Tolerance = { abs: 0, precision: 'float32' };

/**
 * How far each value lies outside [min(lo, hi), max(lo, hi)] widened by slack(i) (0 inside).
 * Compared against zeros.
 */
export function outsideBand(values: Float32Array, lo: Float32Array, hi: Float32Array, slack: (i: number) => number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = slack(i);
    const a = Math.min(lo[i], hi[i]) - s;
    const b = Math.max(lo[i], hi[i]) + s;
    out[i] = values[i] < a ? a - values[i] : values[i] > b ? values[i] - b : 0;
  }
  return out;
}

/**
 * Rounding slack of ema = model * rate + after * (1 - rate) in float32: one ulp of each
 * product and of the result (PyTorch fuses the add into an FMA, this code rounds the
 * product first: case.json ema_unfused_check).
 */
export function emaSlack(model: Float32Array, after: Float32Array, rate: number): (i: number) => number {
  return (i) => ULP * (Math.abs(model[i] * rate) + Math.abs(after[i] * (1 - rate)) + Math.abs(model[i] * rate + after[i] * (1 - rate)));
}

/**
 * Check the optimizer in two ways (the README's advice: a first Adam step is sign-like):
 * (1) fed the stored grad.* it must reproduce after.* (and ema.*) to float32 rounding;
 * (2) fed OUR gradients, each weight must lie in the band the stored step spans when its
 * gradient moves within the gradient tolerance (AdamW is monotone in g for a fresh state),
 * so the own-gradient path is checked exactly as tightly as the gradients are.
 */
export function checkOptimizerStep(
  ctx: CaseContext,
  args: {
    names: string[];
    before: Map<string, HostTensor>;
    storedGrads: Map<string, HostTensor>;
    ownGrads: Map<string, Float32Array>;
    gradTol: (name: string) => number;
    after: (name: string) => HostTensor;
    opts: AdamWOptions;
    afterTol: Tolerance;
    ema?: { rate: number; expected: (name: string) => HostTensor };
  },
): void {
  const { names, before, storedGrads, ownGrads, opts } = args;
  const g = new Map<string, Float32Array>();
  const gLo = new Map<string, Float32Array>();
  const gHi = new Map<string, Float32Array>();
  for (const n of names) {
    const s = toFloat32(storedGrads.get(n)!);
    const d = args.gradTol(n);
    g.set(n, s);
    gLo.set(n, s.map((v) => v - d));
    gHi.set(n, s.map((v) => v + d));
  }
  const afterStored = adamwStepHost(before, g, opts);
  const afterLo = adamwStepHost(before, gLo, opts);
  const afterHi = adamwStepHost(before, gHi, opts);
  const afterOwn = adamwStepHost(before, ownGrads, opts);
  for (const n of names) {
    const exp = args.after(n);
    ctx.check.close(`after.${n} (stored grad)`, afterStored.get(n)!, exp, args.afterTol, exp.shape);
    // Rounding in (-step * m) / denom is a few ulp of the step itself, besides the ulp of the weight.
    const lo = afterLo.get(n)!;
    const hi = afterHi.get(n)!;
    const stepSlack = 4 * ULP * opts.lr;
    const excess = outsideBand(afterOwn.get(n)!, lo, hi, (i) => stepSlack + 2 * ULP * Math.max(Math.abs(lo[i]), Math.abs(hi[i])));
    ctx.check.close(`after.${n} (own grad) outside the step band of grad.${n} +- ${args.gradTol(n).toExponential(2)}`, excess, new Float64Array(excess.length), BAND);
    if (args.ema) {
      const m = toFloat32(before.get(n)!);
      const e = toFloat32(args.ema.expected(`ema.${n}`));
      const rate = args.ema.rate;
      const stored = afterStored.get(n)!;
      const mine = emaHost(m, stored, rate);
      // Within the rounding slack of the expected value (band of width 0 around it).
      const exStored = outsideBand(mine, e, e, emaSlack(m, stored, rate));
      ctx.check.close(`ema.${n} (stored grad) beyond 1 ulp of each term`, exStored, new Float64Array(e.length), BAND);
      const own = emaHost(m, afterOwn.get(n)!, rate);
      const eLo = emaHost(m, lo, rate);
      const eHi = emaHost(m, hi, rate);
      const ex = outsideBand(own, eLo, eHi, (i) => (1 - rate) * stepSlack + emaSlack(m, lo, rate)(i) + emaSlack(m, hi, rate)(i));
      ctx.check.close(`ema.${n} (own grad) outside the band`, ex, new Float64Array(ex.length), BAND);
    }
  }
}
