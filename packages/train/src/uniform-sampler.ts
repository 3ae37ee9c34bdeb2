import { ConfigError, type HostTensor, type RandomSource } from '@adm/core';
import { drawFromWeights, type TimestepDraw, type TimestepSampler } from './timestep-sampler.js';

/** Every step equally likely (guided-diffusion's UniformSampler); importance weights are 1. */
export class UniformSampler implements TimestepSampler {
  readonly name = 'uniform';
  private readonly w: Float64Array;
  constructor(readonly numTimesteps: number) {
    if (!Number.isInteger(numTimesteps) || numTimesteps <= 0) throw new ConfigError('diffusion_steps', `must be a positive integer, got ${numTimesteps}`);
    this.w = new Float64Array(numTimesteps).fill(1);
  }
  weights(): Float64Array {
    return this.w.slice();
  }
  sample(batch: number, random: RandomSource): TimestepDraw {
    return drawFromWeights(this.w, batch, random);
  }
  getState(): Map<string, HostTensor> {
    return new Map();
  }
  setState(): void {}
}
