import type * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;

/**
 * out[s, ...] = sum of x[i, ...] over i with segmentIds[i] == s: a one-hot matrix [S, n]
 * times x as [n, rest]. The one-hot is made as int32 and cast, because the wasm OneHot
 * kernel writes garbage for float32. This is the gradient of gather (class embeddings).
 */
export function unsortedSegmentSum(s: KernelScope, inputs: { x: TensorInfo; segmentIds: TensorInfo }, attrs: { numSegments: number }): TensorInfo {
  const { x } = inputs;
  let ids = inputs.segmentIds;
  const numSegments = attrs.numSegments;
  const n = x.shape[0];
  const rest = x.shape.slice(1);
  const r = rest.reduce((a, b) => a * b, 1);
  if (ids.dtype !== 'int32') ids = s.run('Cast', { x: ids }, { dtype: 'int32' });
  if (ids.shape.length !== 1) ids = s.run('Reshape', { x: ids }, { shape: [ids.shape.reduce((a, b) => a * b, 1)] });
  const oneHot = s.run('OneHot', { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' });
  const oneHotF = s.run('Cast', { x: oneHot }, { dtype: 'float32' });
  const selT = s.run('Transpose', { x: oneHotF }, { perm: [1, 0] });
  const a = s.run('Reshape', { x: selT }, { shape: [1, numSegments, n] });
  let xf = x;
  if (x.dtype !== 'float32') xf = s.run('Cast', { x }, { dtype: 'float32' });
  const b = s.run('Reshape', { x: xf }, { shape: [1, n, r] });
  let out = s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  if (x.dtype !== 'float32') out = s.run('Cast', { x: out }, { dtype: x.dtype });
  return s.run('Reshape', { x: out }, { shape: [numSegments, ...rest] });
}
