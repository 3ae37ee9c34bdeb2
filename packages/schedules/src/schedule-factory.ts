import type { NoiseSchedule, NoiseScheduleFactory } from '@adm/core';
import { ConfigError } from '@adm/core';
import { BetaSchedule } from './beta-schedule.js';
import { cosineBetas } from './cosine-schedule.js';
import { assertStepCount, linearBetas } from './linear-schedule.js';

/** Beta functions by guided-diffusion's noise_schedule name. */
export const BETA_FUNCTIONS: Readonly<Record<string, (numSteps: number) => Float64Array>> = {
  linear: linearBetas,
  cosine: cosineBetas,
};

/** Builds the named schedules (guided-diffusion's get_named_beta_schedule) as NoiseSchedules. */
export class NamedScheduleFactory implements NoiseScheduleFactory {
  constructor(private readonly betaFunctions: Readonly<Record<string, (numSteps: number) => Float64Array>> = BETA_FUNCTIONS) {}

  get names(): readonly string[] {
    return Object.keys(this.betaFunctions);
  }

  create(name: string, numSteps: number): NoiseSchedule {
    const fn = Object.prototype.hasOwnProperty.call(this.betaFunctions, name) ? this.betaFunctions[name] : undefined;
    if (!fn) throw new ConfigError('noise_schedule', `unknown beta schedule "${name}"; expected one of ${this.names.join(', ')}`);
    assertStepCount(numSteps);
    return new BetaSchedule(name, fn(numSteps));
  }
}

/** The default factory (linear, cosine). */
export const scheduleFactory: NoiseScheduleFactory = new NamedScheduleFactory();
