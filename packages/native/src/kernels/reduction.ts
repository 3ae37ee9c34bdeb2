import * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, SMALL } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

/** Op codes of addon/src/reduction.cc, and the attribute holding each kernel's axes. */
const REDUCTIONS: Array<[string, number, string]> = [
  ['Sum', 0, 'axis'],
  ['Mean', 1, 'axis'],
  ['Max', 2, 'reductionIndices'],
  ['Min', 3, 'axis'],
];

export function reductionKernels(addon: NativeAddon): tf.KernelConfig[] {
  return REDUCTIONS.map(([name, op, axisAttr]) =>
    nativeKernel(name, addon, ({ inputs, backend, attrs }, n) => {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!xv || xv.length < SMALL) return null;
      const axes = tf.util.parseAxisParam(attrs[axisAttr], x.shape);
      const kept = x.shape.filter((_, i) => !axes.includes(i));
      const shape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
      return output(backend, shape, n.reduce(op, xv, x.shape, axes, alloc(backend, tf.util.sizeFromShape(kept))));
    }),
  );
}
