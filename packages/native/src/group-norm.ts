import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, groupNormGradient, ShapeError, type GroupNormAttrs } from '@adm/core';
import { alloc, f32, NATIVE_BACKEND, output, type NativeKernelArgs } from './native-kernel.js';
import type { NativeAddon } from './addon.js';

/**
 * Fused GroupNorm (+ affine, + optional SiLU) as kernels of the `native` backend. The kernel
 * contract (names, attrs, outputs, gradient) lives in @adm/core (kernels/group-norm.ts);
 * model code runs the kernel by name when the current backend has it (see `groupNorm` below).
 */
export { GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, groupNormGradient, type GroupNormAttrs };

/** [batch, spatial, channels] of a channels-last tensor, checked against the groups. */
function layout(shape: readonly number[], groups: number): [number, number, number] {
  const c = shape[shape.length - 1];
  if (shape.length < 2 || c % groups !== 0) {
    throw new ShapeError(`${GROUP_NORM_KERNEL}: expected x of rank >= 2 whose last axis (channels) is a multiple of ${groups} groups, got [${shape.join(', ')}]`);
  }
  return [shape[0], shape.slice(1, -1).reduce((p, d) => p * d, 1), c];
}

export function groupNormKernels(addon: NativeAddon): tf.KernelConfig[] {
  const need = (backend: NativeKernelArgs['backend'], t: tf.TensorInfo, name: string) => {
    const v = f32(backend, t);
    if (!v) throw new ShapeError(`${GROUP_NORM_KERNEL} input ${name}: expected a non-empty float32 tensor, got ${t.dtype} [${t.shape.join(', ')}]`);
    return v;
  };
  return [
    {
      kernelName: GROUP_NORM_KERNEL,
      backendName: NATIVE_BACKEND,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const b = backend as NativeKernelArgs['backend'];
        const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
        const { groups, epsilon, silu } = attrs as unknown as GroupNormAttrs;
        const [n, s, c] = layout(x.shape, groups);
        const [y, mean, rstd] = addon.groupNormForward(need(b, x, 'x'), need(b, gamma, 'gamma'), need(b, beta, 'beta'), n, s, c, groups, epsilon, !!silu, alloc(b, n * s * c), alloc(b, n * groups), alloc(b, n * groups));
        return [output(b, x.shape, y), output(b, [n, groups], mean), output(b, [n, groups], rstd)];
      },
    },
    {
      kernelName: GROUP_NORM_GRAD_KERNEL,
      backendName: NATIVE_BACKEND,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const b = backend as NativeKernelArgs['backend'];
        const { dy, x, gamma, beta, mean, rstd } = inputs as Record<string, tf.TensorInfo>;
        const { groups, silu } = attrs as unknown as GroupNormAttrs;
        const [n, s, c] = layout(x.shape, groups);
        const [dx, dgamma, dbeta] = addon.groupNormBackward(need(b, dy, 'dy'), need(b, x, 'x'), need(b, gamma, 'gamma'), need(b, beta, 'beta'), need(b, mean, 'mean'), need(b, rstd, 'rstd'), n, s, c, groups, !!silu, alloc(b, n * s * c), alloc(b, c), alloc(b, c));
        return [output(b, x.shape, dx), output(b, gamma.shape, dgamma), output(b, beta.shape, dbeta)];
      },
    },
  ];
}

/**
 * GroupNorm(groups) with affine gamma/beta and optional SiLU on channels-last x: the fused
 * kernel where the current backend has one, else the same math from tf ops.
 */
export function groupNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, attrs: GroupNormAttrs): T {
  if (tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) !== undefined) {
    return (tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta }, attrs as any) as tf.Tensor[])[0] as T;
  }
  return tf.tidy(() => {
    const [n, s, c] = layout(x.shape, attrs.groups);
    const xr = tf.reshape(x, [n, s, attrs.groups, c / attrs.groups]);
    const { mean, variance } = tf.moments(xr, [1, 3], true);
    const xhat = tf.reshape(tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, attrs.epsilon))), x.shape);
    const y = tf.add(tf.mul(xhat, gamma), beta);
    return (attrs.silu ? tf.mul(y, tf.sigmoid(y)) : y) as T;
  });
}
