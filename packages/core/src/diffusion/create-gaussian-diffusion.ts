import type { NoiseScheduleFactory } from '../contracts/noise-schedule.js';
import { ConfigError } from '../errors.js';
import { GaussianDiffusion } from './gaussian-diffusion.js';
import type { LossType } from './diffusion-types.js';

/** guided-diffusion's create_gaussian_diffusion keyword arguments (snake_case, as in case.json). */
export interface GaussianDiffusionFlags {
  steps?: number;
  learn_sigma?: boolean;
  sigma_small?: boolean;
  noise_schedule?: string;
  use_kl?: boolean;
  predict_xstart?: boolean;
  rescale_timesteps?: boolean;
  rescale_learned_sigmas?: boolean;
  timestep_respacing?: string;
}

/** create_gaussian_diffusion's defaults (script_util.py). */
export const GAUSSIAN_DIFFUSION_DEFAULTS: Required<GaussianDiffusionFlags> = {
  steps: 1000,
  learn_sigma: false,
  sigma_small: false,
  noise_schedule: 'linear',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
  timestep_respacing: '',
};

/**
 * guided-diffusion's create_gaussian_diffusion: a (always respaced, as SpacedDiffusion
 * re-derives betas even for "") schedule and the mean/variance/loss types the flags select.
 */
export function createGaussianDiffusion(flags: GaussianDiffusionFlags, schedules: NoiseScheduleFactory): GaussianDiffusion {
  const known = new Set(Object.keys(GAUSSIAN_DIFFUSION_DEFAULTS));
  for (const k of Object.keys(flags)) {
    if (!known.has(k)) throw new ConfigError(k, `not a create_gaussian_diffusion argument; expected one of ${[...known].join(', ')}`);
  }
  const f = { ...GAUSSIAN_DIFFUSION_DEFAULTS, ...dropUndefined(flags) };
  for (const k of ['learn_sigma', 'sigma_small', 'use_kl', 'predict_xstart', 'rescale_timesteps', 'rescale_learned_sigmas'] as const) {
    if (typeof f[k] !== 'boolean') throw new ConfigError(k, `expected true or false, got ${JSON.stringify(f[k])}`);
  }
  if (typeof f.timestep_respacing !== 'string') {
    throw new ConfigError('timestep_respacing', `expected a string ("", "ddim25", "250", "10,15,20"), got ${JSON.stringify(f.timestep_respacing)}`);
  }
  const lossType: LossType = f.use_kl ? 'rescaled_kl' : f.rescale_learned_sigmas ? 'rescaled_mse' : 'mse';
  const schedule = schedules.create(f.noise_schedule, f.steps).respace(f.timestep_respacing);
  return new GaussianDiffusion({
    schedule,
    modelMeanType: f.predict_xstart ? 'start_x' : 'epsilon',
    modelVarType: f.learn_sigma ? 'learned_range' : f.sigma_small ? 'fixed_small' : 'fixed_large',
    lossType,
    rescaleTimesteps: f.rescale_timesteps,
  });
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
