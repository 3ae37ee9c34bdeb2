import type * as tf from '@tensorflow/tfjs';
import type { Conditioning } from './denoiser.js';

/** The state of one sampling step that guidance terms read and adjust. */
export interface GuidanceState {
  /** Current sample x_t, NHWC. */
  x: tf.Tensor4D;
  /** Respaced step index (0 = last step). */
  index: number;
  /** The ORIGINAL step index the networks see, per batch element [N] float32. */
  modelT: tf.Tensor1D;
  /** alphas_cumprod at this (respaced) step, float64 scalar. */
  alphaBar: number;
  /** Conditioning given to the denoiser. */
  cond: Conditioning;
  /** eps predicted by the denoiser (possibly adjusted by earlier terms). */
  eps: tf.Tensor4D;
  /** Posterior mean of p(x_{t-1} | x_t) and its variance (NOT log), NHWC-broadcastable. */
  mean: tf.Tensor4D;
  variance: tf.Tensor;
}

/**
 * A guidance term. Terms compose in order: each returns an adjusted eps (score form,
 * Algorithm 2) or an adjusted mean (Algorithm 1); the sampler says which it consumes.
 * Returned tensors are owned by the caller; inputs must not be disposed by the term.
 */
export interface GuidanceTerm {
  readonly name: string;
  /** Score form: eps' given the state (DDIM and every eps-based sampler). */
  adjustEps?(state: GuidanceState): tf.Tensor4D;
  /** Mean-shift form: mean' given the state (DDPM ancestral). */
  adjustMean?(state: GuidanceState): tf.Tensor4D;
  /**
   * Denoiser wrapper form (e.g. classifier-free guidance): combine outputs before the
   * sampler sees them.
   */
  wrapDenoiser?<D extends import('./denoiser.js').Denoiser>(denoiser: D): import('./denoiser.js').Denoiser;
}

/** A guidance scale: constant or a function of (respaced index, number of steps). */
export type GuidanceScale = number | ((index: number, numSteps: number) => number);

export function scaleAt(scale: GuidanceScale, index: number, numSteps: number): number {
  return typeof scale === 'number' ? scale : scale(index, numSteps);
}
