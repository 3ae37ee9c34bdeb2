import type * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, SMALL } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

export function softmaxKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel('Softmax', addon, ({ inputs, backend, attrs }, n) => {
      const { logits } = inputs;
      const v = f32(backend, logits);
      const rank = logits.shape.length;
      const dim = attrs.dim < 0 ? attrs.dim + rank : attrs.dim;
      if (!v || v.length < SMALL || dim !== rank - 1) return null;
      const depth = logits.shape[rank - 1];
      return output(backend, logits.shape, n.softmax(v, v.length / depth, depth, alloc(backend, v.length)));
    }),
  ];
}
