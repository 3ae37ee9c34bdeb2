import * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, SMALL } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

/** Op codes of addon/src/elementwise.cc. */
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6 };
const UNARY: Record<string, number> = { Neg: 0, Exp: 1, Sqrt: 2, Rsqrt: 3, Square: 4, Sigmoid: 5, Relu: 6, Abs: 7, Reciprocal: 8 };

export function elementwiseKernels(addon: NativeAddon): tf.KernelConfig[] {
  const binary = Object.entries(BINARY).map(([name, op]) =>
    nativeKernel(name, addon, ({ inputs, backend }, n) => {
      const { a, b } = inputs;
      const av = f32(backend, a);
      const bv = f32(backend, b);
      if (!av || !bv) return null;
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const size = tf.util.sizeFromShape(shape);
      if (size < SMALL) return null;
      return output(backend, shape, n.binary(op, av, a.shape, bv, b.shape, shape, alloc(backend, size)));
    }),
  );
  const unary = Object.entries(UNARY).map(([name, op]) =>
    nativeKernel(name, addon, ({ inputs, backend }, n) => {
      const { x } = inputs;
      const xv = f32(backend, x);
      if (!xv || xv.length < SMALL) return null;
      return output(backend, x.shape, n.unary(op, xv, alloc(backend, xv.length)));
    }),
  );
  return [...binary, ...unary];
}
