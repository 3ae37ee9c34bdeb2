import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@adm/core';
import { alloc, f32, NATIVE_BACKEND, output, type NativeKernelArgs } from './native-kernel.js';
import type { NativeAddon } from './addon.js';

/**
 * SiLU (x * sigmoid(x)) as one kernel forward and one backward, instead of tfjs's sigmoid,
 * multiply and their four-kernel gradient over whole activations. Like AdmGroupNorm, model
 * code runs it by name when the current backend has it:
 *   tf.getKernel('AdmSilu', tf.getBackend()) ? tf.engine().runKernel('AdmSilu', {x}) : tf.mul(x, tf.sigmoid(x))
 */
export const SILU_KERNEL = 'AdmSilu';
export const SILU_GRAD_KERNEL = 'AdmSiluGrad';

const SILU_OP = 9; // addon/src/elementwise.cc UnaryOp::kSilu

export function siluKernels(addon: NativeAddon): tf.KernelConfig[] {
  const need = (backend: NativeKernelArgs['backend'], t: tf.TensorInfo, name: string) => {
    const v = f32(backend, t);
    if (!v) throw new ShapeError(`${SILU_KERNEL} input ${name}: expected a non-empty float32 tensor, got ${t.dtype} [${t.shape.join(', ')}]`);
    return v;
  };
  return [
    {
      kernelName: SILU_KERNEL,
      backendName: NATIVE_BACKEND,
      kernelFunc: ({ inputs, backend }) => {
        const b = backend as NativeKernelArgs['backend'];
        const { x } = inputs as Record<string, tf.TensorInfo>;
        const xv = need(b, x, 'x');
        return output(b, x.shape, addon.unary(SILU_OP, xv, alloc(b, xv.length)));
      },
    },
    {
      kernelName: SILU_GRAD_KERNEL,
      backendName: NATIVE_BACKEND,
      kernelFunc: ({ inputs, backend }) => {
        const b = backend as NativeKernelArgs['backend'];
        const { x, dy } = inputs as Record<string, tf.TensorInfo>;
        const xv = need(b, x, 'x');
        const dyv = need(b, dy, 'dy');
        if (xv.length !== dyv.length) throw new ShapeError(`${SILU_GRAD_KERNEL}: dy [${dy.shape}] does not match x [${x.shape}]`);
        return output(b, x.shape, addon.siluGrad(xv, dyv, alloc(b, xv.length)));
      },
    },
  ];
}

export const siluGradient: tf.GradConfig = {
  kernelName: SILU_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => tf.engine().runKernel(SILU_GRAD_KERNEL, { x, dy: dy as tf.Tensor }) as tf.Tensor };
  },
};

/** x * sigmoid(x): the fused kernel where the current backend has it, else tf ops. */
export function silu<T extends tf.Tensor>(x: T): T {
  if (tf.getKernel(SILU_KERNEL, tf.getBackend()) !== undefined) return tf.engine().runKernel(SILU_KERNEL, { x }) as T;
  return tf.mul(x, tf.sigmoid(x)) as T;
}
