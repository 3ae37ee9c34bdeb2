import type * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

type TensorInfo = tf.TensorInfo;

function swapLastTwo(s: KernelScope, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return s.run('Transpose', { x: t }, { perm });
}

/**
 * BatchMatMul with transposeA (and transposeB) set is several times slower on wasm than an
 * explicit transpose followed by a plain product (XNNPACK's fast path wants row-major
 * operands), and attention's backward pass is full of them. `original` is the stock kernel.
 */
export function batchMatMulTransposeFirst(
  s: KernelScope,
  inputs: { a: TensorInfo; b: TensorInfo },
  attrs: { transposeA: boolean; transposeB: boolean },
  transposeBToo: boolean,
): TensorInfo | undefined {
  if (!attrs.transposeA && !(attrs.transposeB && transposeBToo)) return undefined;
  const a = attrs.transposeA ? swapLastTwo(s, inputs.a) : inputs.a;
  const tb = attrs.transposeB && transposeBToo;
  const b = tb ? swapLastTwo(s, inputs.b) : inputs.b;
  return s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: attrs.transposeB && !tb });
}
