import { accurateCos } from './accurate-cos.js';
import { assertStepCount } from './linear-schedule.js';

/**
 * Improved DDPM's cosine alphas_cumprod as a function of s in [0, 1] (offset 0.008), with a
 * correctly rounded cos so the float64 betas do not depend on the JS engine's Math.cos.
 */
export function cosineAlphaBar(s: number): number {
  const c = accurateCos(((s + 0.008) / 1.008) * Math.PI / 2);
  return c * c;
}

/**
 * Betas that discretise a continuous alpha_bar(s): beta_i = min(1 - abar((i+1)/T) / abar(i/T),
 * maxBeta); the cap avoids the singularity at s = 1 (guided-diffusion's betas_for_alpha_bar).
 */
export function betasForAlphaBar(numSteps: number, alphaBar: (s: number) => number, maxBeta = 0.999): Float64Array {
  assertStepCount(numSteps);
  const out = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) {
    const t1 = i / numSteps;
    const t2 = (i + 1) / numSteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/** The cosine schedule of Improved DDPM (Nichol & Dhariwal 2021, eq. 17). */
export function cosineBetas(numSteps: number): Float64Array {
  return betasForAlphaBar(numSteps, cosineAlphaBar);
}
