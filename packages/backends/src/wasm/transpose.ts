import type * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * The same permutation on fewer axes: size-1 axes dropped, and axes that stay adjacent and
 * in order merged (a reshape is free). E.g. [16,256,4,32] perm [0,2,1,3] stays 4-D, while
 * [N,T,1,C] perm [0,2,1,3] becomes an identity.
 */
export function reducePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  const order = [...kept].sort((a, b) => a - b);
  const rank = new Map(order.map((a, i) => [a, i]));
  const p = kept.map((a) => rank.get(a)!);
  const s = order.map((a) => shape[a]);
  // merge runs p[i], p[i]+1, ... (adjacent in both input and output)
  const groups: number[][] = [];
  for (const a of p) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] + 1 === a) g.push(a);
    else groups.push([a]);
  }
  const byFirst = [...groups].sort((x, y) => x[0] - y[0]);
  const newIndex = new Map(byFirst.map((g, i) => [g[0], i]));
  return { shape: byFirst.map((g) => prod(g.map((a) => s[a]))), perm: groups.map((g) => newIndex.get(g[0])!) };
}

/**
 * Transpose for the wasm backend, whose kernel is fast up to rank 4 but ~100x slower on a
 * rank-5 permutation (attention's [N, T, heads, 3, ch] -> [3, N, heads, T, ch]). The
 * permutation is first reduced (see reducePermutation); if still rank >= 5 it is done as a
 * sequence of rank-4 "move one axis left" transposes [A, B, X, C] -> [A, X, B, C].
 * Returns undefined when the stock kernel should run as is.
 */
export function transposeWasm(s: KernelScope, x: TensorInfo, perm: readonly number[]): TensorInfo | undefined {
  const outShape = perm.map((a) => x.shape[a]);
  const red = reducePermutation(x.shape, perm);
  const r = red.perm.length;
  if (r === x.shape.length && r <= 4) return undefined;
  if (red.perm.every((a, i) => a === i)) return s.run('Reshape', { x }, { shape: outShape });
  let cur = s.run('Reshape', { x }, { shape: red.shape });
  if (r <= 4) {
    cur = s.run('Transpose', { x: cur }, { perm: red.perm });
    return s.run('Reshape', { x: cur }, { shape: outShape });
  }
  const axes = [...Array(r).keys()]; // which original (reduced) axis sits at each position
  const shape = [...red.shape];
  for (let i = 0; i < r; i++) {
    const j = axes.indexOf(red.perm[i]);
    if (j === i) continue;
    const four = [prod(shape.slice(0, i)), prod(shape.slice(i, j)), shape[j], prod(shape.slice(j + 1))];
    cur = s.run('Reshape', { x: cur }, { shape: four });
    cur = s.run('Transpose', { x: cur }, { perm: [0, 2, 1, 3] });
    const [moved] = axes.splice(j, 1);
    axes.splice(i, 0, moved);
    const [size] = shape.splice(j, 1);
    shape.splice(i, 0, size);
  }
  return s.run('Reshape', { x: cur }, { shape: outShape });
}

/**
 * Unpack (tf.unstack) for wasm, whose kernel is slow: move the axis to the front, then one
 * contiguous Slice per piece.
 */
export function unpackWasm(s: KernelScope, x: TensorInfo, axis: number): TensorInfo[] {
  const rank = x.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const n = x.shape[ax];
  const pieceShape = x.shape.filter((_, i) => i !== ax);
  let front = x;
  if (ax !== 0) {
    const perm = [ax, ...[...Array(rank).keys()].filter((i) => i !== ax)];
    front = transposeWasm(s, x, perm) ?? s.run('Transpose', { x }, { perm });
  }
  const rest = prod(pieceShape);
  const flat = s.run('Reshape', { x: front }, { shape: [n, rest] });
  const out: TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const piece = s.run('Slice', { x: flat }, { begin: [i, 0], size: [1, rest] });
    out.push(s.run('Reshape', { x: piece }, { shape: pieceShape }));
  }
  return out;
}
