import { ConfigError } from '@adm/core';

/**
 * Ho et al.'s linear betas, stretched to any step count (scale = 1000 / T), computed the way
 * numpy.linspace does (start + i * step, last entry set to `stop`) so the float64 values
 * match guided-diffusion's get_named_beta_schedule("linear", T) bit for bit.
 */
export function linearBetas(numSteps: number): Float64Array {
  assertStepCount(numSteps);
  const scale = 1000 / numSteps;
  const start = scale * 0.0001;
  const stop = scale * 0.02;
  const out = new Float64Array(numSteps);
  if (numSteps === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (numSteps - 1);
  for (let i = 0; i < numSteps; i++) out[i] = i * step + start;
  out[numSteps - 1] = stop;
  return out;
}

export function assertStepCount(numSteps: number, field = 'steps'): void {
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new ConfigError(field, `expected a positive integer number of diffusion steps, got ${numSteps}`);
  }
}
