import * as tf from '@tensorflow/tfjs';
import type { DiffusionProcess, StepPrediction } from '@adm/core';

/**
 * Algorithm 2 of the paper (guided-diffusion `condition_score`): eps from the step's x0,
 * eps' = eps - sqrt(1 - abar_t) g, then x0 re-derived from eps' WITHOUT clipping again and
 * the posterior mean recomputed from it.
 */
export function conditionScore(diffusion: DiffusionProcess, x: tf.Tensor4D, t: Int32Array, pred: StepPrediction, g: tf.Tensor4D): StepPrediction {
  const alphaBar = diffusion.extract(diffusion.alphasCumprod, t);
  const eps0 = diffusion.predictEpsFromXstart(x, t, pred.predXstart);
  const eps = tf.sub(eps0, tf.mul(tf.sqrt(tf.sub(1, alphaBar)), g)) as tf.Tensor4D;
  const predXstart = diffusion.predictXstartFromEps(x, t, eps);
  const { mean } = diffusion.qPosteriorMeanVariance(predXstart, x, t);
  return { ...pred, eps, predXstart, mean };
}
