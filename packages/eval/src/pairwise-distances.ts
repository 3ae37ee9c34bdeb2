import * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from './feature-statistics.js';

/**
 * Squared euclidean distances between row blocks of two feature sets, as the evaluator's
 * DistanceBlock computes them: max(|u|^2 - 2 u.v + |v|^2, 0), never square-rooted, stored
 * as float32. An engine must give each pair's distance as a function of that pair alone,
 * so results never depend on how rows and columns are blocked.
 */
export interface PairwiseDistanceEngine {
  readonly name: string;
  /** Distances of rows [a0, a1) of `a` to rows [b0, b1) of `b`, row-major [(a1-a0) x (b1-b0)]. */
  block(a: FeatureMatrix, a0: number, a1: number, b: FeatureMatrix, b0: number, b1: number): Promise<Float32Array>;
}

const normCache = new WeakMap<FeatureMatrix, Float64Array>();

/** |row|^2 of every row, in float64 (cached per matrix). */
export function squaredNorms(f: FeatureMatrix): Float64Array {
  let n = normCache.get(f);
  if (!n) {
    n = new Float64Array(f.count);
    const { values, dim } = f;
    for (let i = 0; i < f.count; i++) {
      let s = 0;
      const off = i * dim;
      for (let k = 0; k < dim; k++) s += values[off + k] * values[off + k];
      n[i] = s;
    }
    normCache.set(f, n);
  }
  return n;
}

/**
 * Float64 arithmetic in JavaScript (products of float32 features are exact in float64), the
 * result rounded to float32: the definition the parity fixtures use. O(rows*cols*dim) on one
 * core, so meant for up to a few thousand points.
 */
export const float64Distances: PairwiseDistanceEngine = {
  name: 'float64',
  async block(a, a0, a1, b, b0, b1) {
    const na = squaredNorms(a);
    const nb = squaredNorms(b);
    const d = a.dim;
    const cols = b1 - b0;
    const out = new Float32Array((a1 - a0) * cols);
    const av = a.values;
    const bv = b.values;
    for (let i = a0; i < a1; i++) {
      const offA = i * d;
      const rowOut = (i - a0) * cols;
      for (let j = b0; j < b1; j++) {
        const offB = j * d;
        let dot = 0;
        for (let k = 0; k < d; k++) dot += av[offA + k] * bv[offB + k];
        out[rowOut + j - b0] = Math.max(na[i] - 2 * dot + nb[j], 0);
      }
    }
    return out;
  },
};

/**
 * Dot products by the active TensorFlow.js backend's float32 matmul (wasm, WebGPU, ...),
 * norms and the final combination in float64. For 50k-image reference batches; the
 * evaluator itself used float16 when finite, so this is at least as precise as it.
 */
export const tfDistances: PairwiseDistanceEngine = {
  name: 'tf-float32',
  async block(a, a0, a1, b, b0, b1) {
    const na = squaredNorms(a);
    const nb = squaredNorms(b);
    const d = a.dim;
    const rows = a1 - a0;
    const cols = b1 - b0;
    const dots = tf.tidy(() => {
      const u = tf.tensor2d(Float32Array.from(a.values.subarray(a0 * d, a1 * d)), [rows, d]);
      const v = tf.tensor2d(Float32Array.from(b.values.subarray(b0 * d, b1 * d)), [cols, d]);
      return tf.matMul(u, v, false, true);
    });
    const dv = (await dots.data()) as Float32Array;
    dots.dispose();
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const ni = na[a0 + i];
      for (let j = 0; j < cols; j++) out[i * cols + j] = Math.max(ni - 2 * dv[i * cols + j] + nb[b0 + j], 0);
    }
    return out;
  },
};
