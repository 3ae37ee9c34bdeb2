import * as tf from '@tensorflow/tfjs';
import type { ParameterScope } from '../parameter-scope.js';
import { Conv2d } from './conv2d.js';
import type { EmbedLayer, LayerContext } from './embed-layer.js';
import { GroupNorm } from './group-norm.js';
import { Linear } from './linear.js';
import { avgPool2x, upsampleNearest2x } from './resample.js';
import { silu } from './silu.js';

export interface ResBlockOptions {
  dropout: number;
  useScaleShiftNorm: boolean;
  up?: boolean;
  down?: boolean;
}

/**
 * guided-diffusion's ResBlock (Section 3 of the paper): GN, SiLU, [resample], conv3x3;
 * timestep projection added (or AdaGN scale/shift); GN, SiLU, dropout, conv3x3; skip
 * connection (identity or 1x1 conv) on the (resampled) input.
 * Parameter names: in_layers.0/.2, emb_layers.1, out_layers.0/.3, skip_connection.
 */
export class ResBlock implements EmbedLayer {
  readonly inNorm: GroupNorm;
  readonly inConv: Conv2d;
  readonly embLinear: Linear;
  readonly outNorm: GroupNorm;
  readonly outConv: Conv2d;
  readonly skip?: Conv2d;

  constructor(
    scope: ParameterScope,
    readonly channels: number,
    embChannels: number,
    readonly outChannels: number,
    readonly options: ResBlockOptions,
  ) {
    this.inNorm = new GroupNorm(scope.child('in_layers.0'), channels);
    this.inConv = new Conv2d(scope.child('in_layers.2'), channels, outChannels, 3);
    this.embLinear = new Linear(scope.child('emb_layers.1'), embChannels, options.useScaleShiftNorm ? 2 * outChannels : outChannels);
    this.outNorm = new GroupNorm(scope.child('out_layers.0'), outChannels);
    this.outConv = new Conv2d(scope.child('out_layers.3'), outChannels, outChannels, 3, { zero: true });
    // guided-diffusion uses a 1x1 conv skip whenever the widths differ (use_conv=False).
    if (outChannels !== channels) this.skip = new Conv2d(scope.child('skip_connection'), channels, outChannels, 1);
  }

  private resample(x: tf.Tensor4D): tf.Tensor4D {
    if (this.options.up) return upsampleNearest2x(x);
    if (this.options.down) return avgPool2x(x);
    return x;
  }

  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, ctx: LayerContext): tf.Tensor4D {
    let h = this.inNorm.apply(x, true);
    let xs = x;
    if (this.options.up || this.options.down) {
      // Resampling sits between the activation and the conv, and also applies to the skip path.
      h = this.resample(h);
      xs = this.resample(x);
    }
    h = this.inConv.apply(h);
    const embOut = tf.reshape(this.embLinear.apply(embAct), [embAct.shape[0], 1, 1, -1]);
    if (this.options.useScaleShiftNorm) {
      const [scale, shift] = tf.split(embOut, 2, 3);
      // AdaGN: the first half scales, the second shifts.
      h = silu(tf.add(tf.mul(this.outNorm.apply(h), tf.add(scale, 1)), shift));
    } else {
      h = this.outNorm.apply(tf.add(h, embOut), true);
    }
    if (ctx.training && this.options.dropout > 0) h = tf.dropout(h, this.options.dropout, undefined, ctx.dropoutSeed?.()) as tf.Tensor4D;
    h = this.outConv.apply(h);
    return tf.add(this.skip ? this.skip.apply(xs) : xs, h);
  }
}
