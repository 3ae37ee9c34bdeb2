/**
 * Eigenvalues of a real symmetric float64 matrix: Householder reduction to tridiagonal
 * form, then the implicit QL iteration with Wilkinson shifts (the EISPACK tred2/tql2 pair,
 * without accumulating eigenvectors). Backward stable: each eigenvalue is exact for a
 * matrix within ~n*eps*|A| of the input.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`symmetricEigenvalues: expected ${n * n} values, got ${a.length}`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(Float64Array.from(a), n, d, e);
  tridiagonalQl(d, e, n);
  return d.sort();
}

/** Householder tridiagonalization of `a` (destroyed): diagonal to d, sub-diagonal to e[1..]. */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  const p = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const rowI = i * n;
    let h = 0;
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(a[rowI + k]);
    if (l === 0 || scale === 0) {
      e[i] = a[rowI + l];
      d[i] = 0;
      continue;
    }
    // u = scaled row i (left of the diagonal); H = I - u u^T / h zeroes a[i][0..l-1].
    for (let k = 0; k <= l; k++) {
      a[rowI + k] /= scale;
      h += a[rowI + k] * a[rowI + k];
    }
    let f = a[rowI + l];
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    a[rowI + l] = f - g;
    // p = A u / h with A the symmetric leading (l+1)x(l+1) block, read from its lower
    // triangle row by row (contiguous memory; a column walk is ~10x slower at n = 2048).
    p.fill(0, 0, l + 1);
    for (let k = 0; k <= l; k++) {
      const rowK = k * n;
      const uk = a[rowI + k];
      let s = 0;
      for (let j = 0; j < k; j++) {
        const akj = a[rowK + j];
        p[j] += akj * uk;
        s += akj * a[rowI + j];
      }
      p[k] += s + a[rowK + k] * uk;
    }
    // K = u^T p / (2h); q = p - K u; A <- A - q u^T - u q^T (lower triangle).
    f = 0;
    for (let j = 0; j <= l; j++) {
      p[j] /= h;
      f += p[j] * a[rowI + j];
    }
    const hh = f / (h + h);
    for (let j = 0; j <= l; j++) p[j] -= hh * a[rowI + j];
    for (let j = 0; j <= l; j++) {
      const uj = a[rowI + j];
      const qj = p[j];
      const rowJ = j * n;
      for (let k = 0; k <= j; k++) a[rowJ + k] -= uj * p[k] + qj * a[rowI + k];
    }
    d[i] = h;
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
}

/** Eigenvalues of the tridiagonal (d, e[1..]) into d, by implicit QL with Wilkinson shifts. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= Number.EPSILON * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigenvalues: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > Number.EPSILON * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}
