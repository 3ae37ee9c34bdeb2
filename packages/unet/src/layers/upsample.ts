import type * as tf from '@tensorflow/tfjs';
import type { ParameterScope } from '../parameter-scope.js';
import { Conv2d } from './conv2d.js';
import type { EmbedLayer } from './embed-layer.js';
import { upsampleNearest2x } from './resample.js';

/** guided-diffusion's Upsample: nearest 2x, then a 3x3 conv (`conv`) when use_conv. */
export class Upsample implements EmbedLayer {
  readonly conv?: Conv2d;

  constructor(scope: ParameterScope, channels: number, useConv: boolean, outChannels = channels) {
    if (useConv) this.conv = new Conv2d(scope.child('conv'), channels, outChannels, 3);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const up = upsampleNearest2x(x);
    return this.conv ? this.conv.apply(up) : up;
  }
}
