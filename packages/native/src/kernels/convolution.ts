import * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, type NativeKernelArgs } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Geometry arguments of the addon's conv calls, or null for what it does not take (NCHW, odd padding). */
function geometry(c: ConvInfo): [number[], number[], number[], number[], number[], number[]] | null {
  if (c.dataFormat !== 'channelsLast') return null;
  const { padInfo: p } = c;
  if (p.top < 0 || p.left < 0) return null;
  // oneDNN wants the right/bottom padding that exactly closes the last window; TF may pad more.
  const extH = (c.filterHeight - 1) * c.dilationHeight + 1;
  const extW = (c.filterWidth - 1) * c.dilationWidth + 1;
  const bottom = Math.max(0, (c.outHeight - 1) * c.strideHeight + extH - c.inHeight - p.top);
  const right = Math.max(0, (c.outWidth - 1) * c.strideWidth + extW - c.inWidth - p.left);
  return [
    [c.batchSize, c.inHeight, c.inWidth, c.inChannels],
    [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels],
    [c.outHeight, c.outWidth],
    [c.strideHeight, c.strideWidth],
    [c.dilationHeight, c.dilationWidth],
    [p.top, bottom, p.left, right],
  ];
}

function conv2d({ inputs, backend, attrs }: NativeKernelArgs, addon: NativeAddon, fused: boolean): tf.TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  const xv = f32(backend, x);
  const wv = f32(backend, filter);
  const bv = bias ? f32(backend, bias) : null;
  if (!xv || !wv || (bias && !bv)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as any, filter.shape as any, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat));
  const g = geometry(info);
  if (!g || (bv && bv.length !== info.outChannels)) return null;
  const y = addon.conv2d(xv, wv, bv, activation === 'relu' ? 1 : 0, ...g, alloc(backend, tf.util.sizeFromShape(info.outShape)));
  return output(backend, info.outShape, y);
}

export function convolutionKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel('Conv2D', addon, (a, n) => conv2d(a, n, false)),
    nativeKernel('FusedConv2D', addon, (a, n) => conv2d(a, n, true)),
    nativeKernel('Conv2DBackpropInput', addon, ({ inputs, backend, attrs }, n) => {
      const { dy, filter } = inputs;
      const dyv = f32(backend, dy);
      const wv = f32(backend, filter);
      if (!dyv || !wv) return null;
      const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as any, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat));
      const g = geometry(info);
      if (!g) return null;
      return output(backend, info.inShape, n.conv2dBackpropInput(dyv, wv, ...g, alloc(backend, tf.util.sizeFromShape(info.inShape))));
    }),
    nativeKernel('Conv2DBackpropFilter', addon, ({ inputs, backend, attrs }, n) => {
      const { x, dy } = inputs;
      const xv = f32(backend, x);
      const dyv = f32(backend, dy);
      if (!xv || !dyv) return null;
      const info = tf.backend_util.computeConv2DInfo(x.shape as any, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat));
      const g = geometry(info);
      if (!g) return null;
      return output(backend, info.filterShape, n.conv2dBackpropFilter(xv, dyv, ...g, alloc(backend, tf.util.sizeFromShape(info.filterShape))));
    }),
  ];
}
