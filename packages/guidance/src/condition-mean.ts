import * as tf from '@tensorflow/tfjs';
import type { StepPrediction } from '@adm/core';

/**
 * Algorithm 1 of the paper (guided-diffusion `condition_mean`): shift the mean by the
 * variance (not the log variance) times the gradient g. x0 is left as it was.
 */
export function conditionMean(pred: StepPrediction, g: tf.Tensor4D): StepPrediction {
  return { ...pred, mean: tf.add(pred.mean, tf.mul(pred.variance, g)) as tf.Tensor4D };
}
