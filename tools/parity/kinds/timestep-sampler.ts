import { ConfigError, toFloat64, toInt32 } from '@adm/core';
import { importanceWeights, LossSecondMomentResampler, probabilities, type TimestepSampler, UniformSampler } from '@adm/train';
import type { CaseContext, Tolerance } from '../types.js';

// The sampler is float64 numpy; a float64 re-statement (numpy's pairwise sums included)
// agrees to ~1e-15 relative (case.json "dtypes"). Importance weights are float32.
export const tolerances: Record<string, Tolerance> = {
  'out.*.weights': { abs: 0, rel: 1e-13, precision: 'float64', why: 'float64 vs float64; summation order may change the last bits (case.json dtypes note)' },
  'out.final.loss_history': { abs: 0, precision: 'exact', why: 'stored losses are copied, not computed' },
  'out.final.loss_counts': { abs: 0, precision: 'exact', why: 'integers' },
  'out.sample.indices': { abs: 0, precision: 'exact', why: 'integers' },
  'out.sample.weights': { abs: 0, rel: 1.2e-7, precision: 'float32', why: 'float32 rounding of a float64 value: at most 1 ulp when the float64 p differs in its last bits' },
};

/** LossSecondMomentResampler fed the stored loss stream; weights at snapshots, history, counts, sample(). */
export async function run(ctx: CaseContext): Promise<void> {
  const spec = ctx.spec;
  const st = await ctx.tensors();
  const f64 = await ctx.file('tensors_f64.safetensors');
  const kw = spec.sampler_call?.kwargs ?? {};
  const T = Number(spec.num_timesteps ?? spec.diffusion_call?.kwargs?.steps);
  if (!Number.isInteger(T)) throw new ConfigError(`${ctx.rel}/case.json`, 'num_timesteps missing');
  const fn = String(spec.sampler_call?.function ?? 'LossSecondMomentResampler');
  const sampler = (
    fn.endsWith('UniformSampler') ? new UniformSampler(T) : new LossSecondMomentResampler(T, { historyPerTerm: kw.history_per_term, uniformProb: kw.uniform_prob })
  ) as TimestepSampler & Partial<Pick<LossSecondMomentResampler, 'warmedUp' | 'lossHistory' | 'lossCounts' | 'historyPerTerm'>>;
  const ts = toInt32(st.get('in.ts'));
  // Losses are float32 values used as exact doubles; the f64 file repeats them.
  const losses = f64.has('in.losses') ? toFloat64(f64.get('in.losses')) : toFloat64(st.get('in.losses'));
  const snapshots = Object.entries(spec.snapshots as Record<string, { after_updates: number; warmed_up?: boolean }>).sort((a, b) => a[1].after_updates - b[1].after_updates);
  let fed = 0;
  const expected = (name: string) => (f64.has(name) ? f64.get(name) : st.get(name));
  for (const [snap, info] of snapshots) {
    const upto = info.after_updates;
    sampler.updateWithAllLosses?.(ts.subarray(fed, upto), losses.subarray(fed, upto));
    fed = upto;
    if (info.warmed_up !== undefined && sampler.warmedUp && sampler.warmedUp() !== info.warmed_up) ctx.check.fail(`${snap}: warmed_up ${sampler.warmedUp()} != ${info.warmed_up}`);
    ctx.check.close(`out.${snap}.weights`, sampler.weights(), expected(`out.${snap}.weights`), tolerances['out.*.weights'], [T]);
  }
  if (fed < ts.length) sampler.updateWithAllLosses?.(ts.subarray(fed), losses.subarray(fed));
  const lastSnap = snapshots[snapshots.length - 1]?.[0] ?? 'final';
  if (st.has(`out.${lastSnap}.loss_history`)) {
    if (!sampler.lossHistory) ctx.check.fail(`out.${lastSnap}.loss_history: ${sampler.name} keeps no history`);
    else ctx.check.close(`out.${lastSnap}.loss_history`, sampler.lossHistory, expected(`out.${lastSnap}.loss_history`), tolerances['out.final.loss_history'], [T, sampler.historyPerTerm!]);
  }
  if (st.has(`out.${lastSnap}.loss_counts`)) {
    if (!sampler.lossCounts) ctx.check.fail(`out.${lastSnap}.loss_counts: ${sampler.name} keeps no counts`);
    else ctx.check.equal(`out.${lastSnap}.loss_counts`, sampler.lossCounts, st.get(`out.${lastSnap}.loss_counts`));
  }
  if (st.has('in.sample_indices')) {
    const idx = toInt32(st.get('in.sample_indices'));
    // sample() with its random draw replaced by the stored indices.
    const w = importanceWeights(probabilities(sampler.weights()), idx);
    ctx.check.equal('out.sample.indices', idx, st.get('out.sample.indices'));
    ctx.check.close('out.sample.weights', w, expected('out.sample.weights'), tolerances['out.sample.weights'], [idx.length]);
    // The float32 values the sampler hands to the loss must equal the stored float32 ones.
    ctx.check.close('out.sample.weights (float32)', w, st.get('out.sample.weights'), { abs: 0, precision: 'exact' }, [idx.length]);
  }
}
