import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | number[][];

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * For a stride-1 convolution, dX is a plain forward convolution of dy with the filter
 * flipped in H and W and its in/out channels swapped, padded by (f - 1 - forward pad) on
 * each side. This uses the backend's fast forward conv instead of its slow backprop kernel.
 * Returns undefined when the fast path does not apply (stride > 1, NCHW, or a forward pad
 * larger than f - 1), so the caller falls back to the stock kernel.
 */
export function conv2dBackpropInputStride1(s: KernelScope, inputs: { dy: TensorInfo; filter: TensorInfo }, attrs: Conv2DBackpropInputAttrs): TensorInfo | undefined {
  const { dy, filter } = inputs;
  if (attrs.dataFormat === 'NCHW') return undefined;
  const [fh, fw] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad as never, attrs.dimRoundingMode, false, 'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const { top, bottom, left, right } = info.padInfo;
  const pads = [fh - 1 - top, fh - 1 - bottom, fw - 1 - left, fw - 1 - right];
  if (pads.some((p) => p < 0)) return undefined;
  let w = filter;
  if (fh > 1 || fw > 1) w = s.run('Reverse', { x: w }, { dims: [0, 1] });
  w = s.run('Transpose', { x: w }, { perm: [0, 1, 3, 2] });
  return s.run('Conv2D', { x: dy, filter: w }, {
    strides: [1, 1], pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1],
  });
}
