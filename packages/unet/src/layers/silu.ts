import * as tf from '@tensorflow/tfjs';

/** SiLU(x) = x * sigmoid(x) (nn.SiLU); tfjs has no silu op. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
