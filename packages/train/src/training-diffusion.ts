import type * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '@adm/core';

/** Per-example loss terms of GaussianDiffusion.training_losses ([N] each). */
export interface TrainingLossTerms {
  loss: tf.Tensor1D;
  mse?: tf.Tensor1D;
  vb?: tf.Tensor1D;
}

/**
 * What training needs of the diffusion process (core's GaussianDiffusion provides it):
 * the forward process q(x_t | x_0) and the training objective. `t` holds step indices.
 */
export interface TrainingDiffusion {
  readonly numTimesteps: number;
  qSample(x0: tf.Tensor4D, t: Int32Array, noise: tf.Tensor4D): tf.Tensor4D;
  trainingLosses(denoiser: Denoiser, x0: tf.Tensor4D, t: Int32Array, opts: { cond?: Conditioning; noise: tf.Tensor4D }): TrainingLossTerms;
}
