import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import type { OutputPool } from './output-pool.js';

/** The tfjs backend name the native kernels are registered under. */
export const NATIVE_BACKEND = 'native';

export interface NativeKernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: MathBackendCPU;
  attrs: Record<string, any>;
}

/** A kernel body: the outputs, or null when the native path does not cover these inputs (the stock cpu kernel runs). */
export type NativeKernelBody = (args: NativeKernelArgs, addon: NativeAddon) => tf.TensorInfo | tf.TensorInfo[] | null;

/** Below this many output elements the call into the addon (~3-6 us) costs more than the JavaScript kernel. */
export const SMALL = 2048;

/** The tensor's Float32Array as the cpu backend stores it (no copy), or null for other dtypes or empty tensors. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array && v.length > 0 ? v : null;
}

/** An array of n floats for a kernel output: a reused buffer when the backend has one. */
export function alloc(backend: MathBackendCPU, n: number): Float32Array {
  const pool = (backend as { outputs?: OutputPool }).outputs;
  return pool ? pool.take(n) : new Float32Array(n);
}

/** A float32 tensor over `values`, stored by the backend without a copy. */
export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

const warned = new Set<string>();

/**
 * The kernel config for `name` on the native backend: `body` first, the cpu backend's own
 * kernel when `body` declines or oneDNN rejects the shapes (said once per kernel and message).
 */
export function nativeKernel(name: string, addon: NativeAddon, body: NativeKernelBody): tf.KernelConfig {
  const stock = tf.getKernel(name, 'cpu');
  const kernelFunc = (args: any) => {
    let out: tf.TensorInfo | tf.TensorInfo[] | null = null;
    try {
      out = body(args as NativeKernelArgs, addon);
    } catch (e) {
      const msg = `${name}: ${(e as Error).message}`;
      if (!stock) throw e;
      if (!warned.has(msg)) {
        warned.add(msg);
        console.warn(`@adm/native: ${msg}; using the cpu kernel for these inputs`);
      }
    }
    if (out !== null) return out;
    if (!stock) throw new Error(`@adm/native: ${name} has no native path for these inputs and no cpu kernel`);
    return stock.kernelFunc(args);
  };
  return { kernelName: name, backendName: NATIVE_BACKEND, kernelFunc, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc };
}
