import { createGaussianDiffusion, type GaussianDiffusion } from '@adm/core';
import { scheduleFactory, spaceTimesteps } from '@adm/schedules';
import type { CaseContext, Tolerance } from '../types.js';

// Beta schedules, every derived float64 array, and respacing (guided-diffusion's
// get_named_beta_schedule, GaussianDiffusion.__init__, space_timesteps, SpacedDiffusion).

export const tolerances: Record<string, Tolerance> = {
  f64: {
    abs: 1e-18,
    rel: 1e-13,
    precision: 'float64',
    why: 'float64 arrays vs tensors_f64: linear is bit-exact; cosine evaluates cos correctly rounded, where glibc (math.cos) is off by one ulp at one of the 1001 points, so 2 of 1000 betas differ in the last bit; a respaced beta 1 - abar_i / abar_j amplifies such a bit (and log() one-ulp differences) to < 1e-13 relative',
  },
  f32: {
    abs: 1e-30,
    rel: 1.2e-7,
    precision: 'float32',
    why: 'the same arrays rounded to float32 (what _extract_into_tensor feeds): identical up to a last-bit float64 difference crossing a float32 rounding boundary',
  },
  timesteps: { abs: 0, precision: 'exact', why: 'kept step indices are integers: exact' },
};

const ARRAYS: Record<string, keyof GaussianDiffusion> = {
  betas: 'betas',
  alphas_cumprod: 'alphasCumprod',
  alphas_cumprod_prev: 'alphasCumprodPrev',
  alphas_cumprod_next: 'alphasCumprodNext',
  sqrt_alphas_cumprod: 'sqrtAlphasCumprod',
  sqrt_one_minus_alphas_cumprod: 'sqrtOneMinusAlphasCumprod',
  log_one_minus_alphas_cumprod: 'logOneMinusAlphasCumprod',
  sqrt_recip_alphas_cumprod: 'sqrtRecipAlphasCumprod',
  sqrt_recipm1_alphas_cumprod: 'sqrtRecipm1AlphasCumprod',
  posterior_variance: 'posteriorVariance',
  posterior_log_variance_clipped: 'posteriorLogVarianceClipped',
  posterior_mean_coef1: 'posteriorMeanCoef1',
  posterior_mean_coef2: 'posteriorMeanCoef2',
};

export async function run(ctx: CaseContext): Promise<void> {
  const f32 = await ctx.tensors();
  const f64 = await ctx.file('tensors_f64.safetensors').catch(() => undefined);
  const outputs: string[] = ctx.spec.outputs ?? [];
  if (!outputs.length) ctx.check.fail('case.json lists no outputs');
  // The base step count: from the diffusion call if recorded, else the length of a base array.
  const stepsOf = (schedule: string): number => {
    const fromSpec = ctx.spec.diffusion_call?.kwargs?.steps ?? ctx.spec.steps;
    if (typeof fromSpec === 'number') return fromSpec;
    for (const n of outputs) {
      const m = /^out\.([^.]+)\.(betas_raw|betas)$/.exec(n);
      if (m && m[1] === schedule) return f32.get(n).shape[0];
    }
    throw new Error(`cannot tell the number of steps of schedule "${schedule}" from case.json`);
  };
  const diffusions = new Map<string, GaussianDiffusion>();
  const diffusion = (schedule: string, respacing: string): GaussianDiffusion => {
    const key = `${schedule}|${respacing}`;
    if (!diffusions.has(key)) {
      diffusions.set(key, createGaussianDiffusion({ steps: stepsOf(schedule), noise_schedule: schedule, timestep_respacing: respacing }, scheduleFactory));
    }
    return diffusions.get(key)!;
  };
  const compareFloat = (name: string, actual: Float64Array) => {
    const e32 = f32.get(name);
    ctx.check.close(`${name} (f32)`, Float32Array.from(actual), e32, tolerances.f32, [actual.length]);
    if (f64?.has(name)) ctx.check.close(`${name} (f64)`, actual, f64.get(name), tolerances.f64, [actual.length]);
  };

  for (const name of outputs) {
    let m: RegExpExecArray | null;
    if ((m = /^out\.respace\.(.*)\.timesteps$/.exec(name))) {
      const respacing = m[1];
      // Every schedule named in the case shares the step count; use the first one's.
      const schedule = firstSchedule(outputs);
      const kept = spaceTimesteps(stepsOf(schedule), respacing);
      ctx.check.equal(name, kept, f32.get(name));
      const listed = ctx.spec.respacings?.[respacing]?.timesteps;
      if (Array.isArray(listed)) ctx.check.equal(`${name} (case.json list)`, kept, listed);
      const mapped = diffusion(schedule, respacing).schedule.timestepMap;
      ctx.check.equal(`${name} (timestep_map)`, Array.from(mapped), f32.get(name));
    } else if ((m = /^out\.([^.]+)\.respace\.(.*)\.([a-z_0-9]+)$/.exec(name))) {
      const [, schedule, respacing, array] = m;
      const field = ARRAYS[array];
      if (!field) {
        ctx.check.fail(`${name}: unknown array "${array}"`);
        continue;
      }
      compareFloat(name, diffusion(schedule, respacing)[field] as Float64Array);
    } else if ((m = /^out\.([^.]+)\.betas_raw$/.exec(name))) {
      compareFloat(name, scheduleFactory.create(m[1], stepsOf(m[1])).betas);
    } else if ((m = /^out\.([^.]+)\.([a-z_0-9]+)$/.exec(name))) {
      const [, schedule, array] = m;
      const field = ARRAYS[array];
      if (!field) {
        ctx.check.fail(`${name}: unknown array "${array}"`);
        continue;
      }
      compareFloat(name, diffusion(schedule, '')[field] as Float64Array);
    } else {
      ctx.check.fail(`${name}: output name not understood by the schedule kind`);
    }
  }
}

function firstSchedule(outputs: string[]): string {
  for (const n of outputs) {
    const m = /^out\.([^.]+)\.(betas_raw|betas)$/.exec(n);
    if (m) return m[1];
  }
  return 'linear';
}
