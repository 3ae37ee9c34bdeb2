import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@adm/core';

/**
 * Multi-head attention on a fused qkv projection [N, T, 3*H*c] (tokens first, channels
 * last) -> [N, Tq, H*c]. `legacy` is guided-diffusion's QKVAttentionLegacy (channels
 * split into heads first, then q/k/v inside each head); otherwise QKVAttention (q/k/v
 * first, then heads). q and k are each scaled by 1/sqrt(sqrt(c)); softmax over keys.
 * `firstQueryOnly` computes the output of token 0 only (AttentionPool2d reads only it).
 */
export function qkvAttention(qkv: tf.Tensor3D, heads: number, legacy: boolean, firstQueryOnly = false): tf.Tensor3D {
  const [n, t, width] = qkv.shape;
  const c = width / (3 * heads);
  let q: tf.Tensor4D;
  let k: tf.Tensor4D;
  let v: tf.Tensor4D;
  if (legacy) {
    [q, k, v] = tf.split(tf.reshape(qkv, [n, t, heads, 3 * c]), 3, 3) as tf.Tensor4D[];
  } else {
    [q, k, v] = tf.split(qkv, 3, 2).map((z) => tf.reshape(z, [n, t, heads, c])) as tf.Tensor4D[];
  }
  if (firstQueryOnly) q = tf.slice(q, [0, 0, 0, 0], [n, 1, heads, c]);
  const tq = q.shape[1];
  const scale = 1 / Math.sqrt(Math.sqrt(c));
  // [N, H, T, c]
  const qh = tf.transpose(tf.mul(q, scale), [0, 2, 1, 3]);
  const kh = tf.transpose(tf.mul(k, scale), [0, 2, 1, 3]);
  const vh = tf.transpose(v, [0, 2, 1, 3]);
  const weights = tf.softmax(tf.matMul(qh, kh, false, true)); // [N, H, Tq, T]
  const a = tf.matMul(weights, vh); // [N, H, Tq, c]
  return tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [n, tq, heads * c]);
}

/** Heads of an attention layer: channels / num_head_channels when that is set, else num_heads. */
export function attentionHeads(channels: number, numHeads: number, numHeadChannels: number, where: string): number {
  if (numHeadChannels === -1) {
    if (!(numHeads >= 1) || channels % numHeads !== 0) {
      throw new ConfigError('num_heads', `${where}: ${channels} channels are not divisible by num_heads ${numHeads}`);
    }
    return numHeads;
  }
  if (!(numHeadChannels >= 1) || channels % numHeadChannels !== 0) {
    throw new ConfigError('num_head_channels', `${where}: ${channels} channels are not divisible by num_head_channels ${numHeadChannels}`);
  }
  return channels / numHeadChannels;
}
