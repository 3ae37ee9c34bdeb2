import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | number[][];

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * dW[kh, kw, c, o] = sum over (n, i, j) of xPadded[n, i*sh + kh, j*sw + kw, c] * dy[n, i, j, o].
 * For each filter tap this is one matrix product [C, M] x [M, O] (M = N*outH*outW) of a
 * strided slice of x (im2col one tap at a time) with dy, so it runs on the backend's
 * matmul kernel. x is transposed once to [C, N, H, W] so every tap slice is already the
 * [C, M] left operand (no transposed matmul, which is slow on wasm).
 */
export function conv2dBackpropFilter(s: KernelScope, inputs: { x: TensorInfo; dy: TensorInfo }, attrs: Conv2DBackpropFilterAttrs): TensorInfo {
  let { x, dy } = inputs;
  let pad = attrs.pad;
  if (attrs.dataFormat === 'NCHW') {
    x = s.run('Transpose', { x }, { perm: [0, 2, 3, 1] });
    dy = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
    if (Array.isArray(pad)) pad = [pad[0], pad[2], pad[3], pad[1]];
  }
  const filterShape = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides, 1, pad as never, attrs.dimRoundingMode, false, 'channelsLast',
  );
  const [n, , , c] = x.shape;
  const [fh, fw, , o] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const m = n * oh * ow;

  let xt = s.run('Transpose', { x }, { perm: [3, 0, 1, 2] });
  if (top || bottom || left || right) {
    xt = s.run('PadV2', { x: xt }, { paddings: [[0, 0], [0, 0], [top, bottom], [left, right]], constantValue: 0 });
  }
  const dy3 = s.run('Reshape', { x: dy }, { shape: [1, m, o] });
  const taps: TensorInfo[] = [];
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const begin = [0, 0, kh, kw];
      const tap =
        sh === 1 && sw === 1
          ? s.run('Slice', { x: xt }, { begin, size: [c, n, oh, ow] })
          : s.run('StridedSlice', { x: xt }, {
              begin, end: [c, n, kh + (oh - 1) * sh + 1, kw + (ow - 1) * sw + 1], strides: [1, 1, sh, sw],
              beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
            });
      const a = s.run('Reshape', { x: tap }, { shape: [1, c, m] });
      taps.push(s.run('BatchMatMul', { a, b: dy3 }, { transposeA: false, transposeB: false }));
      s.free(a, tap); // one tap's patches alive at a time
    }
  }
  const all = taps.length === 1 ? taps[0] : s.run('Concat', taps, { axis: 0 });
  return s.run('Reshape', { x: all }, { shape: [...filterShape] });
}
