import type * as tf from '@tensorflow/tfjs';
import type { RandomSource } from '../random.js';
import type { Conditioning, Denoiser } from './denoiser.js';
import type { GuidanceTerm } from './guidance.js';
import type { NoiseSchedule } from './noise-schedule.js';

/** Everything a sampler needs for a run. */
export interface SamplerContext {
  schedule: NoiseSchedule;
  denoiser: Denoiser;
  guidance: GuidanceTerm[];
  cond: Conditioning;
  random: RandomSource;
  /** Clip predicted x0 to [-1, 1] (guided-diffusion's clip_denoised). */
  clipDenoised: boolean;
}

/** One finished step of a run. */
export interface SamplerStep {
  /** Position in the run, 0-based (0 = the noisiest step). */
  step: number;
  /** Respaced index of the step just taken (numTimesteps - 1 - step). */
  index: number;
  /** The new sample x_{t-1}, owned by the run (disposed when the next step is taken). */
  sample: tf.Tensor4D;
  /** Predicted x0 at this step, owned by the run. */
  predXstart: tf.Tensor4D;
}

/**
 * A sampler walks a respaced schedule from x_T. `step` takes one step and returns new
 * tensors (the caller disposes them); it must dispose every intermediate it makes.
 */
export interface Sampler {
  readonly name: string;
  /** Called once before the first step (e.g. multistep solvers reset their history). */
  reset?(): void;
  step(ctx: SamplerContext, x: tf.Tensor4D, index: number): { sample: tf.Tensor4D; predXstart: tf.Tensor4D };
}
