import type * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, SMALL } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

export function transposeKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel('Transpose', addon, ({ inputs, backend, attrs }, n) => {
      const { x } = inputs;
      const v = f32(backend, x);
      if (!v || v.length < SMALL) return null;
      const perm: number[] = attrs.perm;
      return output(backend, perm.map((p) => x.shape[p]), n.transpose(v, x.shape, perm, alloc(backend, v.length)));
    }),
  ];
}
