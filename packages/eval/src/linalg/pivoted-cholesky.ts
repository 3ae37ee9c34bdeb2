/**
 * Rank-revealing Cholesky with diagonal pivoting (LAPACK dpstrf's algorithm) of a
 * symmetric positive semi-definite float64 matrix: S = R^T R with R [rank x n].
 *
 * A covariance estimated from fewer samples than dimensions, or with constant features, is
 * exactly singular; plain Cholesky fails there and an eigendecomposition turns its null
 * space into rounding noise of size ~eps*|S|. Pivoting stops at the numerical rank
 * instead, so the null space contributes exactly nothing downstream.
 */
export interface PivotedCholesky {
  /** Row-major [rank x n], columns in the ORIGINAL order (S = R^T R). */
  r: Float64Array;
  rank: number;
  n: number;
  /** Largest diagonal left when the factorization stopped (0 when full rank). */
  residual: number;
}

/**
 * @param s row-major symmetric [n x n] (only read; a copy is factored)
 * @param tol stop when every remaining diagonal is <= tol; default n * eps * max(diag),
 *   the numerical-rank tolerance LAPACK's dpstrf uses.
 */
export function pivotedCholesky(s: Float64Array, n: number, tol?: number): PivotedCholesky {
  if (s.length !== n * n) throw new RangeError(`pivotedCholesky: expected ${n * n} values, got ${s.length}`);
  const a = Float64Array.from(s);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
  const stop = tol ?? n * Number.EPSILON * maxDiag;
  // rows of R in the pivoted order; row j only has entries at pivoted columns >= j.
  const rp = new Float64Array(n * n);
  let rank = 0;
  let residual = 0;
  for (let j = 0; j < n; j++) {
    let p = j;
    let best = a[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const v = a[i * n + i];
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > stop)) {
      residual = Math.max(0, best);
      break;
    }
    if (p !== j) {
      swapRowsCols(a, n, j, p);
      swapCols(rp, n, j, p, j);
      const t = perm[j];
      perm[j] = perm[p];
      perm[p] = t;
    }
    const d = Math.sqrt(a[j * n + j]);
    const rowJ = j * n;
    rp[rowJ + j] = d;
    for (let k = j + 1; k < n; k++) rp[rowJ + k] = a[rowJ + k] / d;
    // Schur complement update of the trailing block, whole rows (contiguous; mirroring an
    // upper triangle into columns costs a cache miss per element at n = 2048).
    for (let i = j + 1; i < n; i++) {
      const ri = rp[rowJ + i];
      if (ri === 0) continue;
      const rowI = i * n;
      for (let k = j + 1; k < n; k++) a[rowI + k] -= ri * rp[rowJ + k];
    }
    rank++;
  }
  const r = new Float64Array(rank * n);
  for (let j = 0; j < rank; j++) {
    for (let k = j; k < n; k++) r[j * n + perm[k]] = rp[j * n + k];
  }
  return { r, rank, n, residual };
}

function swapRowsCols(a: Float64Array, n: number, i: number, j: number): void {
  for (let k = 0; k < n; k++) {
    const t = a[i * n + k];
    a[i * n + k] = a[j * n + k];
    a[j * n + k] = t;
  }
  for (let k = 0; k < n; k++) {
    const t = a[k * n + i];
    a[k * n + i] = a[k * n + j];
    a[k * n + j] = t;
  }
}

/** Swap columns i and j of the first `rows` rows. */
function swapCols(a: Float64Array, n: number, i: number, j: number, rows: number): void {
  for (let k = 0; k < rows; k++) {
    const t = a[k * n + i];
    a[k * n + i] = a[k * n + j];
    a[k * n + j] = t;
  }
}
