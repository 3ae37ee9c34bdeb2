import type { NoiseSchedule } from '@adm/core';
import { ConfigError } from '@adm/core';
import { spaceTimesteps } from './space-timesteps.js';

/** A float64 beta schedule, possibly a respaced subset of an original one. */
export class BetaSchedule implements NoiseSchedule {
  readonly numTimesteps: number;
  readonly alphasCumprod: Float64Array;

  constructor(
    readonly name: string,
    readonly betas: Float64Array,
    readonly timestepMap: Int32Array = identityMap(betas.length),
    readonly originalNumSteps: number = betas.length,
  ) {
    if (betas.length === 0) throw new ConfigError(`schedule "${name}"`, 'has no steps');
    if (timestepMap.length !== betas.length) {
      throw new ConfigError(`schedule "${name}"`, `timestepMap has ${timestepMap.length} entries for ${betas.length} betas`);
    }
    for (let i = 0; i < betas.length; i++) {
      // guided-diffusion asserts 0 < beta <= 1: outside it alphas_cumprod is not a decreasing product.
      if (!(betas[i] > 0 && betas[i] <= 1)) throw new ConfigError(`schedule "${name}" betas[${i}]`, `must be in (0, 1], got ${betas[i]}`);
    }
    this.numTimesteps = betas.length;
    this.alphasCumprod = cumprodOneMinus(betas);
  }

  /**
   * SpacedDiffusion's construction: walk the kept steps in order, beta = 1 - abar_i / abar_last,
   * so the kept steps keep their alphas_cumprod; the map composes with this schedule's own map.
   */
  respace(spec: string): BetaSchedule {
    const keep = spaceTimesteps(this.numTimesteps, spec);
    const betas = new Float64Array(keep.length);
    const map = new Int32Array(keep.length);
    let last = 1.0;
    keep.forEach((i, k) => {
      const abar = this.alphasCumprod[i];
      betas[k] = 1 - abar / last;
      last = abar;
      map[k] = this.timestepMap[i];
    });
    return new BetaSchedule(this.name, betas, map, this.originalNumSteps);
  }
}

/** numpy.cumprod(1 - betas): a sequential float64 product, as numpy computes it. */
export function cumprodOneMinus(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    const alpha = 1.0 - betas[i];
    p = i === 0 ? alpha : p * alpha;
    out[i] = p;
  }
  return out;
}

function identityMap(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}
