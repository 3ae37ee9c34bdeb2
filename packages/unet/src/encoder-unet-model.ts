import * as tf from '@tensorflow/tfjs';
import { ConfigError, type Classifier, type HasParameters } from '@adm/core';
import { EncoderPath } from './encoder-path.js';
import { AttentionPool2d } from './layers/attention-pool.js';
import { Conv2d } from './layers/conv2d.js';
import { GroupNorm } from './layers/group-norm.js';
import { Linear } from './layers/linear.js';
import { silu } from './layers/silu.js';
import { ParameterScope, type InitOptions, type ParameterEntry } from './parameter-scope.js';
import { checkInputs } from './unet-model.js';
import { resolveEncoderKwargs, type EncoderUNetKwargs, type ResolvedEncoderKwargs } from './unet-kwargs.js';

/**
 * The noisy classifier p(y | x_t, t) of Section 4.3 (guided-diffusion's EncoderUNetModel):
 * the UNet's input path and middle block, then a pooling head. Pools: "attention" (the
 * paper's; out.0 GN, out.2 AttentionPool2d), "adaptive" (GN, SiLU, global average, zero
 * 1x1 conv out.3), "spatial" (per-block spatial means concatenated, Linear-ReLU-Linear)
 * and "spatial_v2" (Linear, GN, SiLU, Linear).
 */
export class EncoderUNetModel implements Classifier, HasParameters {
  readonly kwargs: ResolvedEncoderKwargs;
  readonly info: { imageSize: number; inChannels: number; numClasses: number };
  training = false;
  protected readonly registry: Map<string, ParameterEntry>;
  protected readonly encoder: EncoderPath;
  private readonly outNorm?: GroupNorm;
  private readonly pool?: AttentionPool2d;
  private readonly adaptiveConv?: Conv2d;
  private readonly spatialIn?: Linear;
  private readonly spatialNorm?: GroupNorm;
  private readonly spatialOut?: Linear;

  constructor(kwargs: EncoderUNetKwargs, options: InitOptions = {}) {
    const kw = (this.kwargs = resolveEncoderKwargs(kwargs, new.target.name));
    const scope = ParameterScope.root(options);
    this.registry = scope.registry;
    this.encoder = new EncoderPath(scope, kw);
    const ch = this.encoder.channels;
    const out = scope.child('out');
    switch (kw.pool) {
      case 'adaptive':
        this.outNorm = new GroupNorm(out.child(0), ch);
        this.adaptiveConv = new Conv2d(out.child(3), ch, kw.out_channels, 1, { zero: true });
        break;
      case 'attention': {
        const spatial = Math.floor(kw.image_size / this.encoder.ds);
        this.outNorm = new GroupNorm(out.child(0), ch);
        this.pool = new AttentionPool2d(out.child(2), spatial, ch, kw.num_head_channels, kw.out_channels);
        break;
      }
      case 'spatial':
        this.spatialIn = new Linear(out.child(0), this.encoder.featureSize, 2048);
        this.spatialOut = new Linear(out.child(2), 2048, kw.out_channels);
        break;
      case 'spatial_v2':
        this.spatialIn = new Linear(out.child(0), this.encoder.featureSize, 2048);
        this.spatialNorm = new GroupNorm(out.child(1), 2048);
        this.spatialOut = new Linear(out.child(3), 2048, kw.out_channels);
        break;
      default:
        throw new ConfigError('pool', `unknown pool ${String(kw.pool)}`);
    }
    this.info = { imageSize: kw.image_size, inChannels: kw.in_channels, numClasses: kw.out_channels };
  }

  parameters(): Map<string, tf.Variable> {
    return new Map([...this.registry].map(([k, e]) => [k, e.variable]));
  }

  parameterEntries(): Map<string, ParameterEntry> {
    return this.registry;
  }

  /** Logits [N, out_channels] for x_t (NHWC) at original steps t [N]. */
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor2D {
    checkInputs(this.constructor.name, x, t, this.kwargs.in_channels);
    if (this.pool && (x.shape[1] !== this.kwargs.image_size || x.shape[2] !== this.kwargs.image_size)) {
      throw new ConfigError('x', `the attention pool's positional embedding fixes the input size to ${this.kwargs.image_size}x${this.kwargs.image_size}, got ${x.shape[1]}x${x.shape[2]}`);
    }
    return tf.tidy(() => {
      const embAct = silu(this.encoder.timeEmbedding(t, this.kwargs.model_channels));
      const ctx = { training: this.training };
      const spatial = this.spatialIn !== undefined;
      const means: tf.Tensor2D[] = [];
      let h = x;
      for (const block of this.encoder.inputBlocks) {
        const hIn = h;
        h = tf.tidy(() => block.apply(hIn, embAct, ctx));
        if (spatial) means.push(tf.mean(h, [1, 2]));
      }
      const hMid = h;
      h = tf.tidy(() => this.encoder.middleBlock.apply(hMid, embAct, ctx));
      if (spatial) {
        means.push(tf.mean(h, [1, 2]));
        let f = this.spatialIn!.apply(tf.concat(means, 1));
        f = this.spatialNorm ? this.spatialNorm.apply(f, true) : tf.relu(f);
        return this.spatialOut!.apply(f);
      }
      const a = this.outNorm!.apply(h, true);
      if (this.pool) return this.pool.apply(a);
      // adaptive: global average, then the 1x1 conv (a matmul on [N, C]).
      const pooled = tf.mean(a, [1, 2], true) as tf.Tensor4D;
      return tf.reshape(this.adaptiveConv!.apply(pooled), [x.shape[0], -1]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const e of this.registry.values()) e.variable.dispose();
  }
}
