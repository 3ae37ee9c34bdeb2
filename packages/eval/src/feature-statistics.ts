import { ShapeError } from '@adm/core';

/**
 * The Gaussian summary of a feature set used by FID and sFID: mean and covariance
 * (N-1 divisor), both float64 like the evaluator's np.mean / np.cov(rowvar=False) after
 * the float32 activations are widened.
 */
export interface FeatureStatistics {
  /** [dim] */
  mu: Float64Array;
  /** row-major [dim x dim], symmetric */
  sigma: Float64Array;
  dim: number;
}

/** Features as rows: `values` is row-major [count x dim]. */
export interface FeatureMatrix {
  values: Float32Array | Float64Array;
  count: number;
  dim: number;
}

export function featureMatrix(values: Float32Array | Float64Array, count: number, dim: number, name = 'features'): FeatureMatrix {
  if (values.length !== count * dim) throw new ShapeError(`${name}: expected ${count} x ${dim} = ${count * dim} values, got ${values.length}`);
  return { values, count, dim };
}

/** Mean and unbiased covariance in float64. */
export function computeStatistics(f: FeatureMatrix): FeatureStatistics {
  const { values, count: n, dim: d } = f;
  if (n < 2) throw new ShapeError(`feature statistics need at least 2 rows to estimate a covariance, got ${n}`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mu[j] += values[row + j];
  }
  for (let j = 0; j < d; j++) mu[j] /= n;
  // Centre in float64, then accumulate X^T X on the upper triangle row by row (rank-1
  // updates keep the inner loop contiguous); rows are processed in blocks for cache reuse.
  const sigma = new Float64Array(d * d);
  const block = 64;
  const xc = new Float64Array(block * d);
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    for (let i = b0; i < b1; i++) {
      const src = i * d;
      const dst = (i - b0) * d;
      for (let j = 0; j < d; j++) xc[dst + j] = values[src + j] - mu[j];
    }
    // Four rows per pass: one load/store of sigma's row per four multiply-adds.
    const rows = b1 - b0;
    for (let j = 0; j < d; j++) {
      const rowJ = j * d;
      let i = 0;
      for (; i + 4 <= rows; i += 4) {
        const o0 = i * d;
        const o1 = o0 + d;
        const o2 = o1 + d;
        const o3 = o2 + d;
        const x0 = xc[o0 + j];
        const x1 = xc[o1 + j];
        const x2 = xc[o2 + j];
        const x3 = xc[o3 + j];
        for (let k = j; k < d; k++) sigma[rowJ + k] += x0 * xc[o0 + k] + x1 * xc[o1 + k] + x2 * xc[o2 + k] + x3 * xc[o3 + k];
      }
      for (; i < rows; i++) {
        const off = i * d;
        const x = xc[off + j];
        for (let k = j; k < d; k++) sigma[rowJ + k] += x * xc[off + k];
      }
    }
  }
  const inv = 1 / (n - 1);
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = sigma[j * d + k] * inv;
      sigma[j * d + k] = v;
      sigma[k * d + j] = v;
    }
  }
  return { mu, sigma, dim: d };
}
