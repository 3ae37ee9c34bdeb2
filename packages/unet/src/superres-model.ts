import * as tf from '@tensorflow/tfjs';
import { ShapeError, type Conditioning, type NetworkInfo } from '@adm/core';
import { resizeBilinear } from './layers/bilinear-resize.js';
import type { InitOptions } from './parameter-scope.js';
import { checkInputs, UNetModel } from './unet-model.js';
import type { UNetKwargs } from './unet-kwargs.js';

/**
 * The upsampling model of Section 5.2 (guided-diffusion's SuperResModel): the low-res
 * image (cond.lowRes, NHWC) is bilinearly upsampled (align_corners=False) to x's size and
 * concatenated AFTER x, so the trunk takes 2 * in_channels channels.
 */
export class SuperResModel extends UNetModel {
  /** The constructor kwargs as given (in_channels = channels of x). */
  readonly superResKwargs: UNetKwargs;
  declare readonly info: NetworkInfo;

  constructor(kwargs: UNetKwargs, options: InitOptions = {}) {
    super({ ...kwargs, in_channels: 2 * kwargs.in_channels }, options);
    this.superResKwargs = { ...kwargs };
    const inChannels = kwargs.in_channels;
    this.info = { ...this.info, inChannels, learnSigma: this.kwargs.out_channels === 2 * inChannels };
  }

  /** The upsampled low-res image the trunk sees in channels C..2C. */
  upsample(lowRes: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
    return resizeBilinear(lowRes, height, width);
  }

  protected override prepareInput(x: tf.Tensor4D, t: tf.Tensor1D, cond: Conditioning): tf.Tensor4D {
    const c = this.superResKwargs.in_channels;
    checkInputs(this.constructor.name, x, t, c);
    const lr = cond.lowRes;
    if (!lr) throw new ShapeError(`${this.constructor.name}: cond.lowRes (the low-resolution image, NHWC) is required`);
    if (lr.rank !== 4 || lr.shape[0] !== x.shape[0] || lr.shape[3] !== c) {
      throw new ShapeError(`${this.constructor.name}: cond.lowRes must be NHWC [${x.shape[0]}, h, w, ${c}], got [${lr.shape.join(', ')}]`);
    }
    return tf.concat([x, this.upsample(lr, x.shape[1], x.shape[2])], 3);
  }
}
