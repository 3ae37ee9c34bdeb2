import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@adm/core';
import { computeStatistics, featureMatrix } from './feature-statistics.js';
import { frechetDistance } from './frechet-distance.js';

describe('frechetDistance', () => {
  it('matches the closed form for diagonal covariances', () => {
    // Commuting covariances: tr sqrt(S1 S2) = sum sqrt(a_i b_i).
    const d = 5;
    const a = [1, 2, 3, 0.5, 4];
    const b = [2, 0.1, 3, 1, 0];
    const diag = (v: number[]) => {
      const m = new Float64Array(d * d);
      v.forEach((x, i) => (m[i * d + i] = x));
      return m;
    };
    const mu1 = Float64Array.of(0, 1, 2, 3, 4);
    const mu2 = Float64Array.of(1, 1, 0, 3, 4);
    const r = frechetDistance({ mu: mu1, sigma: diag(a), dim: d }, { mu: mu2, sigma: diag(b), dim: d });
    let want = 1 + 4;
    for (let i = 0; i < d; i++) want += a[i] + b[i] - 2 * Math.sqrt(a[i] * b[i]);
    expect(r.distance).toBeCloseTo(want, 12);
    expect(r.rank2).toBe(4);
  });

  it('is zero between a distribution and itself, even rank deficient', () => {
    const rng = new SeededRandom(7);
    const n = 10;
    const dim = 16; // fewer samples than dims
    const x = rng.normal(n * dim);
    const s = computeStatistics(featureMatrix(x, n, dim));
    const r = frechetDistance(s, s);
    expect(r.rank1).toBe(n - 1);
    expect(Math.abs(r.distance)).toBeLessThan(1e-12);
  });

  it('equals the sample-space SVD form for rank-deficient covariances', () => {
    // With S_i = X_i^T X_i / (n_i - 1), tr sqrt(S1 S2) = nuclear norm of X1 X2^T / sqrt((n1-1)(n2-1)):
    // computed from G = X1 X2^T with an independent cyclic Jacobi eigen-solver on G^T G.
    const rng = new SeededRandom(11);
    const dim = 12;
    const n1 = 4;
    const n2 = 3;
    const x1 = rng.normal(n1 * dim);
    const x2 = rng.normal(n2 * dim);
    const s1 = computeStatistics(featureMatrix(x1, n1, dim));
    const s2 = computeStatistics(featureMatrix(x2, n2, dim));
    const centred = (x: Float32Array, n: number, mu: Float64Array) => Array.from({ length: n }, (_, i) => Array.from({ length: dim }, (_, j) => x[i * dim + j] - mu[j]));
    const c1 = centred(x1, n1, s1.mu);
    const c2 = centred(x2, n2, s2.mu);
    const g = c1.map((u) => c2.map((v) => u.reduce((s, ui, k) => s + ui * v[k], 0)));
    // singular values of the 4x3 G: eigenvalues of the 3x3 G^T G by cyclic Jacobi.
    const m = [0, 1, 2].map((i) => [0, 1, 2].map((j) => g.reduce((s, row) => s + row[i] * row[j], 0)));
    for (let sweep = 0; sweep < 50; sweep++) {
      for (let p = 0; p < 3; p++) for (let q = p + 1; q < 3; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < 3; k++) {
          const a = m[k][p], b = m[k][q];
          m[k][p] = c * a - sn * b;
          m[k][q] = sn * a + c * b;
        }
        for (let k = 0; k < 3; k++) {
          const a = m[p][k], b = m[q][k];
          m[p][k] = c * a - sn * b;
          m[q][k] = sn * a + c * b;
        }
      }
    }
    // Centred X2 has rank n2 - 1 = 2, so G has exactly two non-zero singular values: the third
    // eigenvalue of G^T G is rounding noise whose square root (~1e-8) must not be counted.
    const eig = [0, 1, 2].map((i) => m[i][i]).sort((x, y) => y - x);
    const nuclear = (Math.sqrt(eig[0]) + Math.sqrt(eig[1])) / Math.sqrt((n1 - 1) * (n2 - 1));
    let base = 0;
    for (let j = 0; j < dim; j++) base += (s1.mu[j] - s2.mu[j]) ** 2 + s1.sigma[j * dim + j] + s2.sigma[j * dim + j];
    const r = frechetDistance(s1, s2);
    expect(r.distance).toBeCloseTo(base - 2 * nuclear, 11);
  });

  it('rejects mismatched dimensions', () => {
    const a = { mu: new Float64Array(2), sigma: new Float64Array(4), dim: 2 };
    const b = { mu: new Float64Array(3), sigma: new Float64Array(9), dim: 3 };
    expect(() => frechetDistance(a, b)).toThrow(/different dimensions/);
  });
});
