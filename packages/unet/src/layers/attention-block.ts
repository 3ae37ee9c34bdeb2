import * as tf from '@tensorflow/tfjs';
import type { ParameterScope } from '../parameter-scope.js';
import type { EmbedLayer } from './embed-layer.js';
import { GroupNorm } from './group-norm.js';
import { Linear } from './linear.js';
import { attentionHeads, qkvAttention } from './qkv-attention.js';

/**
 * guided-diffusion's AttentionBlock: GN, 1x1 qkv projection, multi-head self-attention
 * over the H*W positions, zero-initialised 1x1 proj_out, residual.
 */
export class AttentionBlock implements EmbedLayer {
  readonly norm: GroupNorm;
  readonly qkv: Linear;
  readonly projOut: Linear;
  readonly heads: number;

  constructor(
    scope: ParameterScope,
    readonly channels: number,
    numHeads: number,
    numHeadChannels: number,
    readonly useNewAttentionOrder: boolean,
  ) {
    this.heads = attentionHeads(channels, numHeads, numHeadChannels, scope.prefix);
    this.norm = new GroupNorm(scope.child('norm'), channels);
    this.qkv = new Linear(scope.child('qkv'), channels, 3 * channels, { layout: 'conv1d' });
    this.projOut = new Linear(scope.child('proj_out'), channels, channels, { layout: 'conv1d', zero: true });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const tokens = tf.reshape(x, [n, h * w, c]);
    const qkv = this.qkv.apply(this.norm.apply(tokens)) as tf.Tensor3D;
    const a = qkvAttention(qkv, this.heads, !this.useNewAttentionOrder);
    return tf.reshape(tf.add(tokens, this.projOut.apply(a)), [n, h, w, c]);
  }
}
