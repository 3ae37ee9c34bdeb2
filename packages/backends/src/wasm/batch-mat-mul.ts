import type * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;

export interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * BatchMatMul for the wasm backend, which is fast (XNNPACK) only for a single row-major
 * product: with a batch > 1 it runs a naive loop (~10x slower), and with transposeA it is
 * ~8x slower again. Attention (forward and backward) is made of exactly those products.
 *
 * - batch 1, or B shared by every batch element without transposeA: one 2-D product
 *   (A's batch folded into its rows), operands transposed explicitly first.
 * - batch > 1: a depthwise convolution does it in one XNNPACK grouped-GEMM call:
 *   input [1, m, k, batch] (A moved to channels-last), filter [1, k, batch, n] (B), valid
 *   padding, so out[0, i, 0, b*n + j] = sum_t A[b, i, t] * B[b, t, j]. The transposes A and
 *   B need for that layout absorb transposeA / transposeB for free.
 * Returns undefined when neither applies (broadcast A), so the stock kernel runs.
 */
export function batchMatMulWasm(s: KernelScope, inputs: { a: TensorInfo; b: TensorInfo }, attrs: BatchMatMulAttrs): TensorInfo | undefined {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const n = transposeB ? b0 : b1;
  const batchA = prod(a.shape.slice(0, -2));
  const batchB = prod(b.shape.slice(0, -2));
  const outBatchShape = (ra >= rb ? a.shape : b.shape).slice(0, -2);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;

  if (batchB === 1 && (batchA === 1 || !transposeA)) {
    // One plain 2-D product.
    let a2 = s.run('Reshape', { x: a }, { shape: [1, batchA * a0, a1] });
    if (transposeA) a2 = s.run('Transpose', { x: a2 }, { perm: [0, 2, 1] });
    let b2 = s.run('Reshape', { x: b }, { shape: [1, b0, b1] });
    if (transposeB) b2 = s.run('Transpose', { x: b2 }, { perm: [0, 2, 1] });
    const out = s.run('BatchMatMul', { a: a2, b: b2 }, { transposeA: false, transposeB: false });
    return s.run('Reshape', { x: out }, { shape: [...outBatchShape, m, n] });
  }
  if (batchA !== batchB) return undefined;
  const batch = batchA;
  const a3 = s.run('Reshape', { x: a }, { shape: [batch, a0, a1] });
  const b3 = s.run('Reshape', { x: b }, { shape: [batch, b0, b1] });
  // [batch, m, k] -> [m, k, batch]; transposed A [batch, k, m] -> [m, k, batch].
  const x = s.run('Transpose', { x: a3 }, { perm: transposeA ? [2, 1, 0] : [1, 2, 0] });
  // [batch, k, n] -> [k, batch, n]; transposed B [batch, n, k] -> [k, batch, n].
  const f = s.run('Transpose', { x: b3 }, { perm: transposeB ? [2, 0, 1] : [1, 0, 2] });
  const x4 = s.run('Reshape', { x }, { shape: [1, m, k, batch] });
  const f4 = s.run('Reshape', { x: f }, { shape: [1, k, batch, n] });
  const conv = s.run('DepthwiseConv2dNative', { x: x4, filter: f4 }, { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' });
  const o3 = s.run('Reshape', { x: conv }, { shape: [m, batch, n] });
  const o = s.run('Transpose', { x: o3 }, { perm: [1, 0, 2] });
  return s.run('Reshape', { x: o }, { shape: [...outBatchShape, m, n] });
}
