import { ShapeError } from '@adm/core';
import type { FeatureStatistics } from './feature-statistics.js';
import { pivotedCholesky } from './linalg/pivoted-cholesky.js';
import { symmetricEigenvalues } from './linalg/symmetric-eigenvalues.js';

export interface FrechetDistance {
  /** |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2)) */
  distance: number;
  /** tr(sqrtm(S1 S2)) */
  traceSqrtProduct: number;
  /** Numerical ranks of S1 and S2 (dim when full rank). */
  rank1: number;
  rank2: number;
  /** Eigenvalues of R S2 R^T treated as zero (numerical-rank tolerance). */
  droppedEigenvalues: number;
}

/**
 * Frechet distance between two Gaussians (FID, sFID; Heusel et al. 2017), in float64.
 *
 * tr(sqrtm(S1 S2)) is the sum of square roots of the eigenvalues of S1 S2, which are those
 * of the symmetric PSD matrix R S2 R^T for any factor S1 = R^T R. R comes from a pivoted
 * Cholesky that stops at S1's numerical rank, and eigenvalues of R S2 R^T below its
 * numerical-rank tolerance are taken as exact zeros. On rank-deficient covariances (fewer
 * samples than dimensions, constant features) that removes the sqrt(eps)-sized noise every
 * dense sqrtm adds per null eigenvalue: scipy's sqrtm (the evaluator's route) lands ~1e-6
 * away from this exact value there, and within ~1e-11 of it on full-rank covariances.
 * The evaluator's eps*I fallback exists only for sqrtm's failures; this route has none.
 */
export function frechetDistance(a: FeatureStatistics, b: FeatureStatistics): FrechetDistance {
  const d = a.dim;
  if (b.dim !== d) throw new ShapeError(`Frechet distance: the two feature sets have different dimensions (${a.dim} vs ${b.dim})`);
  if (a.mu.length !== d || b.mu.length !== d || a.sigma.length !== d * d || b.sigma.length !== d * d) {
    throw new ShapeError(`Frechet distance: mu must have ${d} values and sigma ${d}x${d}`);
  }
  let diff2 = 0;
  for (let i = 0; i < d; i++) {
    const t = a.mu[i] - b.mu[i];
    diff2 += t * t;
  }
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += a.sigma[i * d + i];
    tr2 += b.sigma[i * d + i];
  }
  const { trace, rank1, rank2, dropped } = traceSqrtProduct(a.sigma, b.sigma, d);
  return { distance: diff2 + tr1 + tr2 - 2 * trace, traceSqrtProduct: trace, rank1, rank2, droppedEigenvalues: dropped };
}

/** tr(sqrtm(S1 S2)) for symmetric PSD S1, S2 (row-major d x d). */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number): { trace: number; rank1: number; rank2: number; dropped: number } {
  const f1 = pivotedCholesky(symmetrized(s1, d), d);
  const rank2 = pivotedCholesky(symmetrized(s2, d), d).rank;
  const r = f1.r;
  const k = f1.rank;
  if (k === 0) return { trace: 0, rank1: 0, rank2, dropped: 0 };
  // T = R S2 [k x d], then M = T R^T [k x k] (symmetric; lower triangle mirrored).
  const t = new Float64Array(k * d);
  for (let i = 0; i < k; i++) {
    const rowR = i * d;
    const rowT = i * d;
    for (let j = 0; j < d; j++) {
      const rij = r[rowR + j];
      if (rij === 0) continue;
      const rowS = j * d;
      for (let c = 0; c < d; c++) t[rowT + c] += rij * s2[rowS + c];
    }
  }
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const rowT = i * d;
    for (let j = i; j < k; j++) {
      const rowR = j * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += t[rowT + c] * r[rowR + c];
      m[i * k + j] = s;
      m[j * k + i] = s;
    }
  }
  const eig = symmetricEigenvalues(m, k);
  const top = Math.max(0, eig[k - 1]);
  const tol = k * Number.EPSILON * top;
  let trace = 0;
  let dropped = 0;
  for (let i = 0; i < k; i++) {
    if (eig[i] > tol) trace += Math.sqrt(eig[i]);
    else dropped++;
  }
  return { trace, rank1: k, rank2, dropped };
}

function symmetrized(s: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = 0.5 * (s[i * d + j] + s[j * d + i]);
      out[i * d + j] = v;
      out[j * d + i] = v;
    }
  }
  return out;
}
