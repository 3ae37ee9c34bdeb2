import * as tf from '@tensorflow/tfjs';
import { alloc, f32, nativeKernel, output, type NativeKernelArgs } from '../native-kernel.js';
import type { NativeAddon } from '../addon.js';

const product = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** BatchMatMul and _FusedMatMul (bias row, ReLU): batches equal or one side a single matrix. */
function matmul({ inputs, backend, attrs }: NativeKernelArgs, addon: NativeAddon, fused: boolean): tf.TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs;
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const biasv = bias ? f32(backend, bias) : null;
  if (!av || !bv || (bias && !biasv) || a.shape.length < 2 || b.shape.length < 2) return null;
  const ta = !!attrs.transposeA;
  const tb = !!attrs.transposeB;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  if ((tb ? bc : br) !== k) return null; // the stock kernel reports the mismatch
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const ba = product(batchA);
  const bb = product(batchB);
  const bo = product(outBatch);
  // Either side holds all the output's batch (then its shape equals the output's) or one matrix.
  if ((ba !== bo && ba !== 1) || (bb !== bo && bb !== 1)) return null;
  if (biasv && biasv.length !== n) return null;
  const c = addon.matmul(av, bv, biasv, activation === 'relu' ? 1 : 0, ba, bb, m, k, n, ta, tb, alloc(backend, bo * m * n));
  return output(backend, [...outBatch, m, n], c);
}

export function matmulKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    nativeKernel('BatchMatMul', addon, (a, n) => matmul(a, n, false)),
    nativeKernel('_FusedMatMul', addon, (a, n) => matmul(a, n, true)),
  ];
}
