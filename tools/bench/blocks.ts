// The two block workloads of the benchmark, from tf ops (no @adm/unet), NHWC, float32;
// GroupNorm(+SiLU) goes through the fused AdmGroupNorm kernel where the backend has one
// (wasm, wasm-mt, native), as the UNet's layers do:
// res128  = x + conv3x3(SiLU(GN32(conv3x3(SiLU(GN32(x))))))   (ADM residual block, no embedding)
// attn128 = x + proj1x1(QKVAttention(qkv1x1(GN32(x))))          (ADM AttentionBlock, 4 heads)
import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_KERNEL, SeededRandom } from '@adm/core';

export interface Network {
  /** The trainable variables. */
  variables: tf.Variable[];
  forward(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

function variable(rng: SeededRandom, shape: number[], scale: number): tf.Variable {
  const data = rng.normal(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale);
  return tf.variable(tf.tensor(data, shape, 'float32'));
}

/** GroupNorm (PyTorch semantics: biased variance, eps 1e-5, per-channel affine), NHWC, then SiLU when `silu`. */
export function groupNorm(x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor, silu = false): tf.Tensor4D {
  if (tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend())) {
    return (tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta }, { groups, epsilon: 1e-5, silu } as unknown as tf.NamedAttrMap) as tf.Tensor[])[0] as tf.Tensor4D;
  }
  const y = groupNormOps(x, groups, gamma, beta);
  return silu ? siluOps(y) : y;
}

function groupNormOps(x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const g = tf.reshape(x, [n, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  const normed = tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(tf.reshape(normed, [n, h, w, c]), gamma), beta) as tf.Tensor4D;
}

const siluOps = (x: tf.Tensor4D) => tf.mul(x, tf.sigmoid(x)) as tf.Tensor4D;

function conv(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  return tf.add(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), b) as tf.Tensor4D;
}

export function resBlock(channels = 128, seed = 0): Network {
  const rng = new SeededRandom(seed);
  const k = 1 / Math.sqrt(9 * channels);
  const v = {
    g1: tf.variable(tf.ones([channels])), b1: tf.variable(tf.zeros([channels])),
    w1: variable(rng, [3, 3, channels, channels], k), c1: tf.variable(tf.zeros([channels])),
    g2: tf.variable(tf.ones([channels])), b2: tf.variable(tf.zeros([channels])),
    w2: variable(rng, [3, 3, channels, channels], k), c2: tf.variable(tf.zeros([channels])),
  };
  return {
    variables: Object.values(v),
    forward: (x) => {
      const h = conv(groupNorm(x, 32, v.g1, v.b1, true), v.w1, v.c1);
      return tf.add(x, conv(groupNorm(h, 32, v.g2, v.b2, true), v.w2, v.c2)) as tf.Tensor4D;
    },
    dispose: () => tf.dispose(Object.values(v)),
  };
}

/** guided-diffusion's AttentionBlock with the legacy QKV order (heads split before q/k/v). */
export function attentionBlock(channels = 128, heads = 4, seed = 0): Network {
  const rng = new SeededRandom(seed);
  const k = 1 / Math.sqrt(channels);
  const v = {
    g: tf.variable(tf.ones([channels])), b: tf.variable(tf.zeros([channels])),
    wqkv: variable(rng, [1, 1, channels, 3 * channels], k), bqkv: tf.variable(tf.zeros([3 * channels])),
    wp: variable(rng, [1, 1, channels, channels], k), bp: tf.variable(tf.zeros([channels])),
  };
  return {
    variables: Object.values(v),
    forward: (x) => {
      const [n, hh, ww, c] = x.shape;
      const t = hh * ww;
      const ch = c / heads;
      const qkv = conv(groupNorm(x, 32, v.g, v.b), v.wqkv, v.bqkv);
      // channels are (head, [q|k|v], ch): [N, T, heads, 3, ch] -> [3, N, heads, T, ch]
      const split = tf.transpose(tf.reshape(qkv, [n, t, heads, 3, ch]), [3, 0, 2, 1, 4]);
      const [q, kk, vv] = tf.unstack(split).map((s) => tf.reshape(s, [n * heads, t, ch]));
      const scale = 1 / Math.sqrt(Math.sqrt(ch));
      const weight = tf.softmax(tf.matMul(tf.mul(q, scale), tf.mul(kk, scale), false, true));
      const a = tf.matMul(weight, vv); // [N*heads, T, ch]
      const merged = tf.reshape(tf.transpose(tf.reshape(a, [n, heads, t, ch]), [0, 2, 1, 3]), [n, hh, ww, c]);
      return tf.add(x, conv(merged as tf.Tensor4D, v.wp, v.bp)) as tf.Tensor4D;
    },
    dispose: () => tf.dispose(Object.values(v)),
  };
}
