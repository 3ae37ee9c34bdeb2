import * as tf from '@tensorflow/tfjs';
import { ParameterScope } from '../parameter-scope.js';
import { Linear } from './linear.js';
import { qkvAttention } from './qkv-attention.js';

/**
 * guided-diffusion's AttentionPool2d (CLIP-style): the H*W tokens with their mean
 * prepended as token 0, a learned positional embedding ([C, HW+1] in PyTorch, [HW+1, C]
 * here), qkv_proj, attention in the NEW head order, c_proj; the output is token 0.
 */
export class AttentionPool2d {
  readonly positionalEmbedding: tf.Variable;
  readonly qkvProj: Linear;
  readonly cProj: Linear;
  readonly heads: number;

  constructor(scope: ParameterScope, readonly spatial: number, readonly channels: number, numHeadChannels: number, outChannels: number) {
    this.positionalEmbedding = scope.add('positional_embedding', 'transpose', [channels, spatial * spatial + 1], ParameterScope.normal(1 / Math.sqrt(channels)));
    this.qkvProj = new Linear(scope.child('qkv_proj'), channels, 3 * channels, { layout: 'conv1d' });
    this.cProj = new Linear(scope.child('c_proj'), channels, outChannels, { layout: 'conv1d' });
    this.heads = Math.floor(channels / numHeadChannels);
  }

  apply(x: tf.Tensor4D): tf.Tensor2D {
    const [n, h, w, c] = x.shape;
    const tokens = tf.reshape(x, [n, h * w, c]);
    const seq = tf.add(tf.concat([tf.mean(tokens, 1, true), tokens], 1), this.positionalEmbedding);
    const qkv = this.qkvProj.apply(seq) as tf.Tensor3D;
    // c_proj acts per token, so only token 0's attention output is needed.
    const a = qkvAttention(qkv, this.heads, false, true);
    return tf.reshape(this.cProj.apply(a), [n, -1]) as tf.Tensor2D;
  }
}
