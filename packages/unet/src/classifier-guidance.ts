import * as tf from '@tensorflow/tfjs';
import { ShapeError, type Classifier } from '@adm/core';

/**
 * The classifier-guidance gradient (Section 4, the cond_fn of guided-diffusion's
 * scripts/classifier_sample.py): scale * grad_x sum_i log_softmax(classifier(x, t))[i, y_i].
 * Returns an NHWC tensor shaped like x; leaves nothing else behind.
 */
export function classifierGuidanceGradient(classifier: Classifier, x: tf.Tensor4D, t: tf.Tensor1D, y: tf.Tensor1D, scale: number): tf.Tensor4D {
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new ShapeError(`classifier guidance: y must hold ${x.shape[0]} labels, got shape [${y.shape.join(', ')}]`);
  return tf.tidy(() => {
    const numClasses = classifier.info.numClasses;
    const select = tf.cast(tf.oneHot(tf.cast(y, 'int32'), numClasses), 'float32');
    const grad = tf.grad((xIn: tf.Tensor) => {
      const logProbs = tf.logSoftmax(classifier.apply(xIn as tf.Tensor4D, t));
      return tf.sum(tf.mul(logProbs, select));
    })(x);
    return tf.mul(grad, scale) as tf.Tensor4D;
  });
}
