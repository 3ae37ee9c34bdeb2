import { ConfigError } from '@adm/core';
import { LossSecondMomentResampler } from './loss-second-moment-resampler.js';
import type { TimestepSampler } from './timestep-sampler.js';
import { UniformSampler } from './uniform-sampler.js';

export const SCHEDULE_SAMPLER_NAMES = ['uniform', 'loss-second-moment'] as const;

/** guided-diffusion's create_named_schedule_sampler: "uniform" or "loss-second-moment". */
export function createNamedScheduleSampler(name: string, numTimesteps: number): TimestepSampler {
  switch (name) {
    case 'uniform':
      return new UniformSampler(numTimesteps);
    case 'loss-second-moment':
      return new LossSecondMomentResampler(numTimesteps);
    default:
      throw new ConfigError('schedule_sampler', `unknown sampler "${name}" (known: ${SCHEDULE_SAMPLER_NAMES.join(', ')})`);
  }
}
