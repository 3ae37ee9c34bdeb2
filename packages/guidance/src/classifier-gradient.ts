import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '@adm/core';

/**
 * g = scale * grad_x sum_i log p(y_i | x_i, t_i): the cond_fn of guided-diffusion's
 * scripts/classifier_sample.py. The classifier sees the ORIGINAL step indices `modelT`.
 */
export type ClassifierGradientFn = (x: tf.Tensor4D, modelT: tf.Tensor1D, y: tf.Tensor1D, scale: number) => tf.Tensor4D;

/** The gradient through any core Classifier with tf.grad (the default ClassifierGradientFn). */
export function classifierGradientFn(classifier: Classifier): ClassifierGradientFn {
  return (x, modelT, y, scale) =>
    tf.tidy(() => {
      const numClasses = classifier.info.numClasses;
      const grad = tf.grad((xIn: tf.Tensor) => {
        const logProbs = tf.logSoftmax(classifier.apply(xIn as tf.Tensor4D, modelT), -1);
        // selected = log_probs[range(N), y]; one-hot made int32 then cast (wasm's float oneHot is wrong).
        const mask = tf.cast(tf.oneHot(tf.cast(y, 'int32'), numClasses), 'float32');
        return tf.sum(tf.mul(logProbs, mask));
      });
      return tf.mul(grad(x), scale) as tf.Tensor4D;
    });
}
