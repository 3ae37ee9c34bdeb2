import type * as tf from '@tensorflow/tfjs';
import type { RandomSource } from '../random.js';

/**
 * What p(x_{t-1} | x_t) looks like at one step, after guidance: the tensors a sampler
 * reads. `variance`/`logVariance` broadcast against x ([N,H,W,C] when learned, [N,1,1,1]
 * when fixed). `eps` is the network's eps (after score guidance: the adjusted eps); samplers
 * that follow guided-diffusion re-derive eps from the clipped x0 themselves.
 */
export interface StepPrediction {
  mean: tf.Tensor4D;
  variance: tf.Tensor4D;
  logVariance: tf.Tensor4D;
  predXstart: tf.Tensor4D;
  eps: tf.Tensor4D;
}

/**
 * The parts of core's GaussianDiffusion (over a respaced schedule) that samplers and
 * guidance read. Per-batch step arguments `t` are RESPACED indices; float64 arrays are
 * indexed by respaced index and are cast to float32 only by `extract`.
 */
export interface DiffusionProcess {
  readonly numTimesteps: number;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  /** arr[t] per batch element as float32 [N,1,1,1]. */
  extract(arr: Float64Array, t: Int32Array): tf.Tensor4D;
  /** The timesteps the networks see for respaced indices t: float32 [N]. */
  modelTimesteps(t: Int32Array): tf.Tensor1D;
  predictXstartFromEps(xT: tf.Tensor4D, t: Int32Array, eps: tf.Tensor4D): tf.Tensor4D;
  predictEpsFromXstart(xT: tf.Tensor4D, t: Int32Array, predXstart: tf.Tensor4D): tf.Tensor4D;
  qPosteriorMeanVariance(xStart: tf.Tensor4D, xT: tf.Tensor4D, t: Int32Array): { mean: tf.Tensor4D };
}

/** Which of the paper's two guidance forms a sampler consumes (Section 4.1 / 4.2). */
export type GuidanceForm = 'mean' | 'eps';

/**
 * Everything one sampling run gives a sampler. `predict` runs the (guided) network at a
 * respaced index for the whole batch. Every call happens inside the run's tf.tidy, so
 * samplers need not dispose intermediates, only what they keep across steps.
 */
export interface SamplerContext {
  diffusion: DiffusionProcess;
  predict(x: tf.Tensor4D, index: number): StepPrediction;
  random: RandomSource;
}

/** One stepper of a run: x_t at respaced `index` -> x_{t-1} (index - 1), and x0 seen there. */
export interface SamplerRun {
  step(x: tf.Tensor4D, index: number): { sample: tf.Tensor4D; predXstart: tf.Tensor4D };
  /** Free what the run kept across steps (multistep histories). */
  dispose(): void;
}

/** A sampler walks a respaced schedule from x_T down to x_0. */
export interface Sampler {
  readonly name: string;
  /** The guidance form this sampler's predictions are adjusted with. */
  readonly guidanceForm: GuidanceForm;
  begin(ctx: SamplerContext): SamplerRun;
}

/** Builds a sampler by name from JSON options (e.g. {eta: 0}); bound under TOKENS.SamplerRegistry. */
export interface SamplerFactory {
  readonly name: string;
  readonly summary: string;
  create(options?: Record<string, unknown>): Sampler;
}
