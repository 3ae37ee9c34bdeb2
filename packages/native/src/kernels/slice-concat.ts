import * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, SMALL } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

/** Slice, SplitV, Concat and PadV2 as box copies (the cpu backend indexes every element in JavaScript). */
export function sliceConcatKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel('Slice', addon, ({ inputs, backend, attrs }, n) => {
      const { x } = inputs;
      const v = f32(backend, x);
      if (!v) return null;
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
      const count = tf.util.sizeFromShape(size);
      if (count < SMALL) return null;
      const out = alloc(backend, count);
      n.copyBlock(v, x.shape, begin, out, size, size.map(() => 0), size);
      return output(backend, size, out);
    }),
    nativeKernel('SplitV', addon, ({ inputs, backend, attrs }, n) => {
      const { x } = inputs;
      const v = f32(backend, x);
      if (!v || v.length < SMALL) return null;
      const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
      let at = 0;
      return sizes.map((len) => {
        const shape = x.shape.map((d, i) => (i === axis ? len : d));
        const out = alloc(backend, tf.util.sizeFromShape(shape));
        const begin = x.shape.map((_, i) => (i === axis ? at : 0));
        if (out.length > 0) n.copyBlock(v, x.shape, begin, out, shape, shape.map(() => 0), shape);
        at += len;
        return output(backend, shape, out);
      });
    }),
    nativeKernel('Concat', addon, ({ inputs, backend, attrs }, n) => {
      const list = Object.values(inputs).filter((t) => tf.util.sizeFromShape(t.shape) > 0);
      if (list.length === 0) return null;
      const values = list.map((t) => f32(backend, t));
      if (values.some((v) => v === null)) return null;
      const axis = tf.util.parseAxisParam(attrs.axis, list[0].shape)[0];
      const shape = tf.backend_util.computeOutShape(list.map((t) => t.shape), axis);
      const count = tf.util.sizeFromShape(shape);
      if (count < SMALL) return null;
      const out = alloc(backend, count);
      let at = 0;
      list.forEach((t, i) => {
        const begin = shape.map((_, d) => (d === axis ? at : 0));
        n.copyBlock(values[i]!, t.shape, t.shape.map(() => 0), out, shape, begin, t.shape);
        at += t.shape[axis];
      });
      return output(backend, shape, out);
    }),
    nativeKernel('PadV2', addon, ({ inputs, backend, attrs }, n) => {
      const { x } = inputs;
      const v = f32(backend, x);
      const paddings: Array<[number, number]> = attrs.paddings;
      if (!v || paddings.some(([a, b]) => a < 0 || b < 0)) return null;
      const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
      const count = tf.util.sizeFromShape(shape);
      if (count < SMALL) return null;
      const out = alloc(backend, count).fill(attrs.constantValue ?? 0);
      n.copyBlock(v, x.shape, x.shape.map(() => 0), out, shape, paddings.map(([a]) => a), x.shape);
      return output(backend, shape, out);
    }),
  ];
}
