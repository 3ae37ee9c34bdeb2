import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@adm/core';
import { pivotedCholesky } from './pivoted-cholesky.js';
import { symmetricEigenvalues } from './symmetric-eigenvalues.js';

/** Random orthogonal matrix by Gram-Schmidt of Gaussian columns (row-major n x n). */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = gauss(rng);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[i] * q[i * n + k];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i * n + k];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * n + j] = v[i] / norm;
  }
  return q;
}

function gauss(rng: SeededRandom): number {
  return rng.normal(1)[0];
}

/** Q diag(lambda) Q^T */
function withSpectrum(q: Float64Array, lambda: number[]): Float64Array {
  const n = lambda.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
    a[i * n + j] = s;
  }
  return a;
}

describe('symmetricEigenvalues', () => {
  it('recovers a prescribed spectrum', () => {
    const n = 37;
    const lambda = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -1 : 1) * (0.01 + i * 0.7));
    const a = withSpectrum(randomOrthogonal(n, 1), lambda);
    const got = symmetricEigenvalues(a, n);
    const want = [...lambda].sort((x, y) => x - y);
    for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-12 * 30);
  });

  it('handles diagonal, 1x1 and repeated eigenvalues', () => {
    expect([...symmetricEigenvalues(Float64Array.of(4), 1)]).toEqual([4]);
    expect([...symmetricEigenvalues(Float64Array.of(3, 0, 0, 0, 1, 0, 0, 0, 2), 3)]).toEqual([1, 2, 3]);
    const rep = symmetricEigenvalues(withSpectrum(randomOrthogonal(6, 2), [2, 2, 2, 5, 5, 0]), 6);
    [0, 2, 2, 2, 5, 5].forEach((v, i) => expect(rep[i]).toBeCloseTo(v, 12));
  });
});

describe('pivotedCholesky', () => {
  it('factors a rank-deficient PSD matrix exactly at its rank', () => {
    const n = 20;
    const lambda = Array.from({ length: n }, (_, i) => (i < 13 ? 1 + i : 0));
    const s = withSpectrum(randomOrthogonal(n, 3), lambda);
    const { r, rank } = pivotedCholesky(s, n);
    expect(rank).toBe(13);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < rank; k++) v += r[k * n + i] * r[k * n + j];
      expect(Math.abs(v - s[i * n + j])).toBeLessThan(1e-12);
    }
  });

  it('keeps exact zero rows out of the factor', () => {
    const s = Float64Array.of(4, 0, 2, 0, 0, 0, 2, 0, 5);
    const { r, rank } = pivotedCholesky(s, 3);
    expect(rank).toBe(2);
    expect(r[1]).toBe(0);
    expect(r[3 + 1]).toBe(0);
  });
});
