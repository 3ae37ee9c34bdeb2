import * as tf from '@tensorflow/tfjs';

/**
 * Sinusoidal timestep embedding (guided-diffusion's timestep_embedding): half = dim // 2,
 * freqs = exp(-ln(maxPeriod) * arange(half) / half) rounded like PyTorch's float32 ops,
 * embedding [cos(t freqs), sin(t freqs)] (cos first), zero-padded when dim is odd.
 */
export function timestepFrequencies(dim: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const c = Math.fround(-Math.log(maxPeriod));
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp(Math.fround(Math.fround(c * i) / half));
  return freqs;
}

export function timestepEmbedding(t: tf.Tensor1D, dim: number, maxPeriod = 10000): tf.Tensor2D {
  return tf.tidy(() => {
    const freqs = tf.tensor2d(timestepFrequencies(dim, maxPeriod), [1, Math.floor(dim / 2)]);
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), freqs);
    const parts = [tf.cos(args), tf.sin(args)] as tf.Tensor2D[];
    if (dim % 2) parts.push(tf.zeros([t.shape[0], 1]));
    return tf.concat(parts, 1);
  });
}
