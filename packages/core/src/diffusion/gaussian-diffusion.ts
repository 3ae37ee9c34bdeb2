import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../contracts/denoiser.js';
import type { NoiseSchedule } from '../contracts/noise-schedule.js';
import { ConfigError, ShapeError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  LOSS_TYPES,
  type LossType,
  MODEL_MEAN_TYPES,
  MODEL_VAR_TYPES,
  type ModelMeanType,
  type ModelVarType,
  type Timesteps,
} from './diffusion-types.js';
import { discretizedGaussianLogLikelihood, meanFlat, normalKl, stopGradient } from './losses.js';

export interface GaussianDiffusionOptions {
  schedule: NoiseSchedule;
  modelMeanType: ModelMeanType;
  modelVarType: ModelVarType;
  lossType: LossType;
  /** Feed the network t * 1000 / originalNumSteps (float) instead of the integer step. */
  rescaleTimesteps?: boolean;
}

/** A Gaussian (mean, variance, log-variance), all broadcast to the image's shape. */
export interface MeanVariance {
  mean: tf.Tensor4D;
  variance: tf.Tensor4D;
  logVariance: tf.Tensor4D;
}

/** p(x_{t-1} | x_t) from one network output. */
export interface PMeanVariance extends MeanVariance {
  /** Predicted x_0 (after denoisedFn and clipping). */
  predXstart: tf.Tensor4D;
  /**
   * The eps the network predicts: its raw eps channels for 'epsilon', else derived from
   * predXstart. (guided-diffusion's DDIM uses predictEpsFromXstart(x, t, predXstart), which
   * differs from the raw eps where predXstart was clipped.)
   */
  eps: tf.Tensor4D;
}

export interface PMeanVarianceOptions {
  /** Clip predicted x_0 to [-1, 1]. */
  clipDenoised: boolean;
  /** Applied to predicted x_0 before clipping. */
  denoisedFn?: (x0: tf.Tensor4D) => tf.Tensor4D;
}

export interface TrainingLosses {
  /** Per-example loss [N]. */
  loss: tf.Tensor1D;
  /** Per-example mean squared error of the mean prediction [N] (mse loss types). */
  mse?: tf.Tensor1D;
  /** Per-example variational-bound term in bits [N] (mse loss types with learned variance). */
  vb?: tf.Tensor1D;
}

/**
 * The Gaussian diffusion process of guided-diffusion's GaussianDiffusion / SpacedDiffusion:
 * float64 schedule arrays gathered per batch as float32, float32 tensor math in the
 * reference's operation order. Images are NHWC; `t` are RESPACED step indices.
 * Every method is tidy: it leaves behind only the tensors it returns.
 */
export class GaussianDiffusion {
  readonly schedule: NoiseSchedule;
  readonly modelMeanType: ModelMeanType;
  readonly modelVarType: ModelVarType;
  readonly lossType: LossType;
  readonly rescaleTimesteps: boolean;
  readonly numTimesteps: number;

  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly alphasCumprodNext: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  readonly posteriorVariance: Float64Array;
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;

  /** 1 - alphas_cumprod (q(x_t | x_0)'s variance), log(betas) (learned range's upper end). */
  readonly oneMinusAlphasCumprod: Float64Array;
  readonly logBetas: Float64Array;
  /** "fixed large" variance: betas with posterior_variance[1] at t = 0, and its log. */
  readonly fixedLargeVariance: Float64Array;
  readonly fixedLargeLogVariance: Float64Array;

  constructor(opts: GaussianDiffusionOptions) {
    const { schedule } = opts;
    if (!MODEL_MEAN_TYPES.includes(opts.modelMeanType)) throw new ConfigError('modelMeanType', `expected one of ${MODEL_MEAN_TYPES.join(', ')}, got ${String(opts.modelMeanType)}`);
    if (!MODEL_VAR_TYPES.includes(opts.modelVarType)) throw new ConfigError('modelVarType', `expected one of ${MODEL_VAR_TYPES.join(', ')}, got ${String(opts.modelVarType)}`);
    if (!LOSS_TYPES.includes(opts.lossType)) throw new ConfigError('lossType', `expected one of ${LOSS_TYPES.join(', ')}, got ${String(opts.lossType)}`);
    this.schedule = schedule;
    this.modelMeanType = opts.modelMeanType;
    this.modelVarType = opts.modelVarType;
    this.lossType = opts.lossType;
    this.rescaleTimesteps = opts.rescaleTimesteps ?? false;

    const betas = Float64Array.from(schedule.betas);
    const T = betas.length;
    if (T === 0) throw new ConfigError('schedule', 'has no steps');
    for (let i = 0; i < T; i++) {
      if (!(betas[i] > 0 && betas[i] <= 1)) throw new ConfigError(`schedule.betas[${i}]`, `must be in (0, 1], got ${betas[i]}`);
    }
    if (schedule.timestepMap.length !== T) throw new ConfigError('schedule.timestepMap', `has ${schedule.timestepMap.length} entries for ${T} steps`);
    this.numTimesteps = T;
    this.betas = betas;

    // GaussianDiffusion.__init__, in float64 and in numpy's order.
    const map = (f: (i: number) => number) => Float64Array.from({ length: T }, (_, i) => f(i));
    const alphas = map((i) => 1.0 - betas[i]);
    const ac = new Float64Array(T);
    for (let i = 0; i < T; i++) ac[i] = i === 0 ? alphas[0] : ac[i - 1] * alphas[i];
    this.alphasCumprod = ac;
    this.alphasCumprodPrev = map((i) => (i === 0 ? 1.0 : ac[i - 1]));
    this.alphasCumprodNext = map((i) => (i === T - 1 ? 0.0 : ac[i + 1]));
    const prev = this.alphasCumprodPrev;
    this.sqrtAlphasCumprod = map((i) => Math.sqrt(ac[i]));
    this.oneMinusAlphasCumprod = map((i) => 1.0 - ac[i]);
    this.sqrtOneMinusAlphasCumprod = map((i) => Math.sqrt(1.0 - ac[i]));
    this.logOneMinusAlphasCumprod = map((i) => Math.log(1.0 - ac[i]));
    this.sqrtRecipAlphasCumprod = map((i) => Math.sqrt(1.0 / ac[i]));
    this.sqrtRecipm1AlphasCumprod = map((i) => Math.sqrt(1.0 / ac[i] - 1));
    this.posteriorVariance = map((i) => (betas[i] * (1.0 - prev[i])) / (1.0 - ac[i]));
    const pv = this.posteriorVariance;
    // The posterior variance is 0 at t = 0: its log is clipped to the t = 1 value.
    this.posteriorLogVarianceClipped = map((i) => Math.log(i === 0 ? (T > 1 ? pv[1] : pv[0]) : pv[i]));
    this.posteriorMeanCoef1 = map((i) => (betas[i] * Math.sqrt(prev[i])) / (1.0 - ac[i]));
    this.posteriorMeanCoef2 = map((i) => ((1.0 - prev[i]) * Math.sqrt(alphas[i])) / (1.0 - ac[i]));
    this.logBetas = map((i) => Math.log(betas[i]));
    this.fixedLargeVariance = map((i) => (i === 0 ? (T > 1 ? pv[1] : pv[0]) : betas[i]));
    const flv = this.fixedLargeVariance;
    this.fixedLargeLogVariance = map((i) => Math.log(flv[i]));
  }

  // ---- gathering schedule constants -------------------------------------------------

  /** arr[t_i] per batch element, rounded to float32, as [N, 1, 1, 1] (_extract_into_tensor). */
  extract(arr: Float64Array, t: Timesteps): tf.Tensor4D {
    const idx = this.checkTimesteps(t);
    const vals = new Float32Array(idx.length);
    for (let i = 0; i < idx.length; i++) vals[i] = arr[idx[i]];
    return tf.tensor4d(vals, [idx.length, 1, 1, 1], 'float32');
  }

  /**
   * What the networks see for respaced steps t: the original step (timestep_map), times
   * 1000 / originalNumSteps when rescaleTimesteps, as float32 [N].
   */
  modelTimesteps(t: Timesteps): tf.Tensor1D {
    const idx = this.checkTimesteps(t);
    const map = this.schedule.timestepMap;
    const vals = new Float32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      const orig = map[idx[i]];
      // float32 multiply, as PyTorch does new_ts.float() * (1000.0 / original_num_steps).
      vals[i] = this.rescaleTimesteps ? Math.fround(orig * Math.fround(1000.0 / this.schedule.originalNumSteps)) : orig;
    }
    return tf.tensor1d(vals, 'float32');
  }

  // ---- forward process and posterior --------------------------------------------------

  /** q(x_t | x_0): mean sqrt(abar) x_0, variance 1 - abar, and its log. */
  qMeanVariance(x0: tf.Tensor4D, t: Timesteps): MeanVariance {
    this.checkBatch(x0, t, 'x0');
    return tf.tidy(() => ({
      mean: tf.mul(this.extract(this.sqrtAlphasCumprod, t), x0) as tf.Tensor4D,
      variance: tf.broadcastTo(this.extract(this.oneMinusAlphasCumprod, t), x0.shape) as tf.Tensor4D,
      logVariance: tf.broadcastTo(this.extract(this.logOneMinusAlphasCumprod, t), x0.shape) as tf.Tensor4D,
    }));
  }

  /** A draw from q(x_t | x_0) with the given standard normal noise. */
  qSample(x0: tf.Tensor4D, t: Timesteps, noise: tf.Tensor4D): tf.Tensor4D {
    this.checkBatch(x0, t, 'x0');
    checkSameShape(noise, x0, 'noise', 'x0');
    return tf.tidy(() =>
      tf.add(tf.mul(this.extract(this.sqrtAlphasCumprod, t), x0), tf.mul(this.extract(this.sqrtOneMinusAlphasCumprod, t), noise)),
    ) as tf.Tensor4D;
  }

  /** q(x_{t-1} | x_t, x_0); logVariance is the clipped posterior log-variance. */
  qPosteriorMeanVariance(x0: tf.Tensor4D, xt: tf.Tensor4D, t: Timesteps): MeanVariance {
    this.checkBatch(xt, t, 'xt');
    checkSameShape(x0, xt, 'x0', 'xt');
    return tf.tidy(() => ({
      mean: tf.add(tf.mul(this.extract(this.posteriorMeanCoef1, t), x0), tf.mul(this.extract(this.posteriorMeanCoef2, t), xt)) as tf.Tensor4D,
      variance: tf.broadcastTo(this.extract(this.posteriorVariance, t), xt.shape) as tf.Tensor4D,
      logVariance: tf.broadcastTo(this.extract(this.posteriorLogVarianceClipped, t), xt.shape) as tf.Tensor4D,
    }));
  }

  /** x_0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps. */
  predictXstartFromEps(xt: tf.Tensor4D, t: Timesteps, eps: tf.Tensor4D): tf.Tensor4D {
    checkSameShape(eps, xt, 'eps', 'xt');
    return tf.tidy(() =>
      tf.sub(tf.mul(this.extract(this.sqrtRecipAlphasCumprod, t), xt), tf.mul(this.extract(this.sqrtRecipm1AlphasCumprod, t), eps)),
    ) as tf.Tensor4D;
  }

  /** eps = (sqrt(1/abar) x_t - x_0) / sqrt(1/abar - 1). */
  predictEpsFromXstart(xt: tf.Tensor4D, t: Timesteps, x0: tf.Tensor4D): tf.Tensor4D {
    checkSameShape(x0, xt, 'x0', 'xt');
    return tf.tidy(() =>
      tf.div(tf.sub(tf.mul(this.extract(this.sqrtRecipAlphasCumprod, t), xt), x0), this.extract(this.sqrtRecipm1AlphasCumprod, t)),
    ) as tf.Tensor4D;
  }

  /** x_0 from a predicted x_{t-1}: (x_{t-1} - coef2 x_t) / coef1. */
  predictXstartFromXprev(xt: tf.Tensor4D, t: Timesteps, xprev: tf.Tensor4D): tf.Tensor4D {
    checkSameShape(xprev, xt, 'xprev', 'xt');
    const recip1 = this.posteriorMeanCoef1.map((c) => 1.0 / c);
    const ratio = this.posteriorMeanCoef2.map((c, i) => c / this.posteriorMeanCoef1[i]);
    return tf.tidy(() => tf.sub(tf.mul(this.extract(recip1, t), xprev), tf.mul(this.extract(ratio, t), xt))) as tf.Tensor4D;
  }

  // ---- the model's p(x_{t-1} | x_t) ----------------------------------------------------

  /**
   * p(x_{t-1} | x_t) from a raw network output (NHWC; C channels, or 2C with learned
   * variances: [eps-or-x0-or-xprev, v]).
   */
  pMeanVarianceFromOutput(modelOutput: tf.Tensor4D, x: tf.Tensor4D, t: Timesteps, opts: PMeanVarianceOptions): PMeanVariance {
    this.checkBatch(x, t, 'x');
    const C = x.shape[3];
    const learned = this.modelVarType === 'learned' || this.modelVarType === 'learned_range';
    const want = learned ? 2 * C : C;
    const [n, h, w, c] = modelOutput.shape;
    if (n !== x.shape[0] || h !== x.shape[1] || w !== x.shape[2] || c !== want) {
      throw new ShapeError(
        `model output: expected [${x.shape[0]}, ${x.shape[1]}, ${x.shape[2]}, ${want}] (NHWC, ${learned ? '2C channels: modelVarType ' + this.modelVarType : 'C channels'}), got [${modelOutput.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      // A clone, so that no returned tensor is the caller's input.
      let out: tf.Tensor4D = learned ? modelOutput : modelOutput.clone();
      let variance: tf.Tensor4D;
      let logVariance: tf.Tensor4D;
      if (learned) {
        const [o, v] = tf.split(modelOutput, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
        out = o;
        if (this.modelVarType === 'learned') {
          logVariance = v;
        } else {
          const minLog = this.extract(this.posteriorLogVarianceClipped, t);
          const maxLog = this.extract(this.logBetas, t);
          // v in [-1, 1] interpolates between the posterior variance and beta (Improved DDPM eq. 15).
          const frac = tf.div(tf.add(v, 1), 2);
          logVariance = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog)) as tf.Tensor4D;
        }
        variance = tf.exp(logVariance);
      } else {
        const [va, lv] =
          this.modelVarType === 'fixed_large'
            ? [this.fixedLargeVariance, this.fixedLargeLogVariance]
            : [this.posteriorVariance, this.posteriorLogVarianceClipped];
        variance = tf.broadcastTo(this.extract(va, t), x.shape) as tf.Tensor4D;
        logVariance = tf.broadcastTo(this.extract(lv, t), x.shape) as tf.Tensor4D;
      }
      const processXstart = (x0: tf.Tensor4D): tf.Tensor4D => {
        let r = x0;
        if (opts.denoisedFn) r = opts.denoisedFn(r);
        return opts.clipDenoised ? tf.clipByValue(r, -1, 1) : r;
      };
      let predXstart: tf.Tensor4D;
      let mean: tf.Tensor4D;
      let eps: tf.Tensor4D;
      if (this.modelMeanType === 'previous_x') {
        predXstart = processXstart(this.predictXstartFromXprev(x, t, out));
        mean = out;
        eps = this.predictEpsFromXstart(x, t, predXstart);
      } else {
        predXstart = processXstart(this.modelMeanType === 'start_x' ? out : this.predictXstartFromEps(x, t, out));
        mean = this.qPosteriorMeanVariance(predXstart, x, t).mean;
        eps = this.modelMeanType === 'epsilon' ? out : this.predictEpsFromXstart(x, t, predXstart);
      }
      return { mean, variance, logVariance, predXstart, eps };
    });
  }

  /** Runs the denoiser on (x, modelTimesteps(t), cond) and returns p(x_{t-1} | x_t) and the raw output. */
  pMeanVariance(
    denoiser: Denoiser,
    x: tf.Tensor4D,
    t: Timesteps,
    opts: PMeanVarianceOptions & { cond?: Conditioning },
  ): PMeanVariance & { modelOutput: tf.Tensor4D } {
    this.checkBatch(x, t, 'x');
    return tf.tidy(() => {
      const modelOutput = denoiser.apply(x, this.modelTimesteps(t), opts.cond);
      return { ...this.pMeanVarianceFromOutput(modelOutput, x, t, opts), modelOutput };
    });
  }

  // ---- variational bound and training losses ------------------------------------------

  /**
   * One term of the variational bound in bits per dimension [N]: the decoder NLL of x_0 where
   * t == 0, else KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)). `model` is a raw network
   * output (NHWC) or an already computed p(x_{t-1} | x_t).
   */
  vbTermsBpd(
    x0: tf.Tensor4D,
    xt: tf.Tensor4D,
    t: Timesteps,
    model: tf.Tensor4D | MeanVariance & { predXstart: tf.Tensor4D },
    clipDenoised: boolean,
  ): { output: tf.Tensor1D; predXstart: tf.Tensor4D } {
    this.checkBatch(xt, t, 'xt');
    const idx = this.checkTimesteps(t);
    return tf.tidy(() => {
      const trueMv = this.qPosteriorMeanVariance(x0, xt, t);
      const out = model instanceof tf.Tensor ? this.pMeanVarianceFromOutput(model, xt, t, { clipDenoised }) : model;
      const kl = tf.div(meanFlat(normalKl(trueMv.mean, trueMv.logVariance, out.mean, out.logVariance)), Math.log(2.0));
      const nll = tf.neg(discretizedGaussianLogLikelihood(x0, out.mean, tf.mul(out.logVariance, 0.5)));
      const decoderNll = tf.div(meanFlat(nll), Math.log(2.0));
      const isFirst = tf.tensor1d(Array.from(idx, (i) => (i === 0 ? 1 : 0)), 'bool');
      const output = tf.where(isFirst, decoderNll, kl) as tf.Tensor1D;
      return { output, predXstart: out.predXstart };
    });
  }

  /**
   * Per-example training losses at respaced steps t (guided-diffusion's training_losses).
   * The noise is `noise`, else drawn from `random`, else from tf.randomNormal. With learned
   * variances and an mse loss, the vb term sees the eps channels detached (it trains only
   * the variance), scaled by numTimesteps / 1000 for 'rescaled_mse'.
   */
  trainingLosses(
    denoiser: Denoiser,
    x0: tf.Tensor4D,
    t: Timesteps,
    opts: { cond?: Conditioning; noise?: tf.Tensor4D; random?: RandomSource } = {},
  ): TrainingLosses {
    this.checkBatch(x0, t, 'x0');
    return tf.tidy(() => {
      const noise =
        opts.noise ??
        (opts.random
          ? tf.tensor4d(opts.random.normal(x0.size, x0.shape), x0.shape, 'float32')
          : tf.randomNormal(x0.shape, 0, 1, 'float32'));
      const xt = this.qSample(x0, t, noise);
      if (this.lossType === 'kl' || this.lossType === 'rescaled_kl') {
        const pmv = this.pMeanVariance(denoiser, xt, t, { clipDenoised: false, cond: opts.cond });
        let loss = this.vbTermsBpd(x0, xt, t, pmv, false).output;
        if (this.lossType === 'rescaled_kl') loss = tf.mul(loss, this.numTimesteps);
        return { loss };
      }
      let modelOutput = denoiser.apply(xt, this.modelTimesteps(t), opts.cond);
      let vb: tf.Tensor1D | undefined;
      if (this.modelVarType === 'learned' || this.modelVarType === 'learned_range') {
        const C = x0.shape[3];
        if (modelOutput.shape[3] !== 2 * C) {
          throw new ShapeError(`model output: expected ${2 * C} channels (learned variance), got [${modelOutput.shape.join(', ')}]`);
        }
        const [out, v] = tf.split(modelOutput, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
        const frozen = tf.concat([stopGradient(out), v], 3) as tf.Tensor4D;
        vb = this.vbTermsBpd(x0, xt, t, frozen, false).output;
        // guided-diffusion divides by 1000 "for equivalence with the initial implementation".
        if (this.lossType === 'rescaled_mse') vb = tf.mul(vb, this.numTimesteps / 1000.0) as tf.Tensor1D;
        modelOutput = out;
      }
      const target =
        this.modelMeanType === 'epsilon' ? noise : this.modelMeanType === 'start_x' ? x0 : this.qPosteriorMeanVariance(x0, xt, t).mean;
      checkSameShape(modelOutput, target, 'model output', 'target');
      const d = tf.sub(target, modelOutput);
      const mse = meanFlat(tf.mul(d, d));
      const loss = vb ? (tf.add(mse, vb) as tf.Tensor1D) : mse;
      return vb ? { loss, mse, vb } : { loss, mse };
    });
  }

  // ---- checks ---------------------------------------------------------------------------

  private checkTimesteps(t: Timesteps): Int32Array | readonly number[] {
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.numTimesteps) {
        throw new ConfigError(`t[${i}]`, `expected a respaced step index in [0, ${this.numTimesteps}), got ${v}`);
      }
    }
    return t;
  }

  private checkBatch(x: tf.Tensor, t: Timesteps, name: string): void {
    if (x.rank !== 4) throw new ShapeError(`${name}: expected an NHWC image batch (4 dims), got [${x.shape.join(', ')}]`);
    if (x.shape[0] !== t.length) throw new ShapeError(`${name}: batch of ${x.shape[0]} but ${t.length} timesteps`);
  }
}

function checkSameShape(a: tf.Tensor, b: tf.Tensor, an: string, bn: string): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${an}: shape [${a.shape.join(', ')}] differs from ${bn} [${b.shape.join(', ')}]`);
  }
}
