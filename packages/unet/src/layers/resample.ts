import * as tf from '@tensorflow/tfjs';

/**
 * Nearest-neighbour 2x upsampling (F.interpolate(scale_factor=2, mode="nearest")) as a
 * reshape and a broadcasting multiply: correct gradients on every backend (the cpu
 * backend's ResizeNearestNeighborGrad is wrong for batch > 1).
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const spread = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(spread, [n, 2 * h, 2 * w, c]);
}

/** 2x2 average pooling, stride 2 (F.avg_pool2d(kernel_size=2, stride=2): odd edges dropped). */
export function avgPool2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h % 2 === 0 && w % 2 === 0) {
    // reshape + mean: differentiable with generic ops on every backend.
    return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D;
  }
  return tf.avgPool(x, 2, 2, 'valid');
}
