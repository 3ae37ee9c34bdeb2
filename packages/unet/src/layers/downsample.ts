import type * as tf from '@tensorflow/tfjs';
import type { ParameterScope } from '../parameter-scope.js';
import { Conv2d } from './conv2d.js';
import type { EmbedLayer } from './embed-layer.js';
import { avgPool2x } from './resample.js';

/** guided-diffusion's Downsample: stride-2 3x3 conv (`op`) or 2x2 average pooling. */
export class Downsample implements EmbedLayer {
  readonly op?: Conv2d;

  constructor(scope: ParameterScope, channels: number, useConv: boolean, outChannels = channels) {
    if (useConv) this.op = new Conv2d(scope.child('op'), channels, outChannels, 3, { stride: 2 });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.op ? this.op.apply(x) : avgPool2x(x);
  }
}
