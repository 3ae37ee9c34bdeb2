import { toFloat32 } from '@adm/core';
import { featureMatrix, float64Distances, precisionRecall } from '@adm/eval';
import type { CaseContext, Tolerance } from '../types.js';

export const tolerances: Record<string, Tolerance> = {
  radii: { abs: 0, rel: 6e-8, precision: 'float32', why: 'the evaluator keeps radii in float32; expected radii are float64 (one float32 rounding)' },
  manifold_flags: { abs: 0, precision: 'exact', why: 'inside/outside decisions are exact: float64 distances compared in float32 (ties inside)' },
  precision_recall: { abs: 0, precision: 'float64', why: 'fractions of exact decisions' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const t = await ctx.tensors();
  const p = ctx.spec.params ?? {};
  const realT = t.get('real');
  const fakeT = t.get('fake');
  const real = featureMatrix(toFloat32(realT), realT.shape[0], realT.shape[1], 'real');
  const fake = featureMatrix(toFloat32(fakeT), fakeT.shape[0], fakeT.shape[1], 'fake');
  const nhoodSizes: number[] = p.nhood_sizes ?? (p.k !== undefined ? [p.k] : [3]);
  if (p.clamp_to_percentile !== undefined && p.clamp_to_percentile !== null) {
    ctx.check.fail(`clamp_to_percentile=${p.clamp_to_percentile} is not supported (the evaluator uses None)`);
    return;
  }
  const exp = ctx.spec.expected ?? {};
  // The case's own block sizes, then every block size its diagnostics list: the result must not change.
  const runs: Array<[string, number, number, [number, number] | undefined]> = [
    ['', p.row_batch_size ?? 10000, p.col_batch_size ?? 10000, [exp.precision, exp.recall]],
  ];
  for (const [key, val] of Object.entries(ctx.spec.diagnostics?.results_by_row_x_col_batch_size ?? {})) {
    const m = /^(\d+)x(\d+)$/.exec(key);
    if (m) runs.push([`@${key}`, Number(m[1]), Number(m[2]), val as [number, number]]);
  }
  for (const [tag, rowBatchSize, colBatchSize, want] of runs) {
    const r = await precisionRecall(real, fake, { nhoodSizes, rowBatchSize, colBatchSize, engine: float64Distances });
    if (tag === '') {
      const h = nhoodSizes.length;
      if (h === 1) {
        if (t.has('radii_real')) ctx.check.close('radii_real', r.radiiRef, t.get('radii_real'), tolerances.radii, [real.count]);
        if (t.has('radii_fake')) ctx.check.close('radii_fake', r.radiiSample, t.get('radii_fake'), tolerances.radii, [fake.count]);
        if (t.has('fake_in_real_manifold')) ctx.check.close('fake_in_real_manifold', r.sampleInRef, t.get('fake_in_real_manifold'), tolerances.manifold_flags, [fake.count]);
        if (t.has('real_in_fake_manifold')) ctx.check.close('real_in_fake_manifold', r.refInSample, t.get('real_in_fake_manifold'), tolerances.manifold_flags, [real.count]);
      }
    }
    if (want) {
      ctx.check.close(`precision${tag}`, r.precision[0], want[0], tolerances.precision_recall);
      ctx.check.close(`recall${tag}`, r.recall[0], want[1], tolerances.precision_recall);
    }
  }
}
