import { toFloat32, toFloat64 } from '@adm/core';
import { computeStatistics, featureMatrix, type FeatureStatistics, frechetDistance } from '@adm/eval';
import type { CaseContext, Tolerance } from '../types.js';

// FID / sFID cases: act1, act2 (float32 activations) -> float64 mean/covariance ->
// Frechet distance, compared with the evaluator's numpy/scipy values.
export const tolerances: Record<string, Tolerance> = {
  'mu*': { abs: 1e-12, rel: 1e-12, precision: 'float64', why: 'float64 mean of the same float32 values; only summation order differs' },
  'sigma*': { abs: 1e-12, rel: 1e-10, precision: 'float64', why: 'float64 covariance; summation order differs from numpy (measured <= 2e-15)' },
  fid: {
    abs: 1e-9,
    rel: 1e-10,
    precision: 'float64',
    why: 'full-rank covariances: sqrtm and eigen routes agree to ~1e-11 (case diagnostics abs_diff_sqrtm_vs_eig_*)',
  },
  fid_rank_deficient: {
    abs: 1e-5,
    precision: 'float64',
    why:
      'rank-deficient covariance (fewer samples than dims, constant features): scipy sqrtm adds ~sqrt(eps*|S|) per null eigenvalue; ' +
      'the README gives ~1e-6 between algorithms and our exact rank-aware value is 1.35e-6 from scipy 1.17 on fid_near_singular',
  },
};

export async function run(ctx: CaseContext): Promise<void> {
  const t = await ctx.tensors();
  // From activations when the case has them (checking mean and covariance on the way),
  // else from the case's float64 statistics.
  const stats = (i: 1 | 2): FeatureStatistics => {
    const act = `act${i}`;
    if (t.has(act)) {
      const a = t.get(act);
      return computeStatistics(featureMatrix(toFloat32(a), a.shape[0], a.shape[1], act));
    }
    const mu = t.get(`mu${i}`);
    return { mu: toFloat64(mu), sigma: toFloat64(t.get(`sigma${i}`)), dim: mu.shape[0] };
  };
  const s1 = stats(1);
  const s2 = stats(2);
  const d = s1.dim;
  for (const [name, actual, shape, fromActs] of [
    ['mu1', s1.mu, [d], t.has('act1')],
    ['mu2', s2.mu, [d], t.has('act2')],
    ['sigma1', s1.sigma, [d, d], t.has('act1')],
    ['sigma2', s2.sigma, [d, d], t.has('act2')],
  ] as const) {
    if (fromActs && t.has(name)) ctx.check.close(name, actual, t.get(name), tolerances[name.startsWith('mu') ? 'mu*' : 'sigma*'], shape);
  }
  const result = frechetDistance(s1, s2);
  const expected = ctx.spec.expected?.fid ?? ctx.spec.expected?.sfid;
  if (typeof expected !== 'number') {
    ctx.check.fail('case.json has no expected.fid');
    return;
  }
  const deficient = result.rank1 < d || result.rank2 < d;
  ctx.check.close('fid', result.distance, expected, tolerances[deficient ? 'fid_rank_deficient' : 'fid']);
}
