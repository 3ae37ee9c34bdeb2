import { ConfigError, type HostTensor, type RandomSource, toFloat64, toInt32 } from '@adm/core';
import { pairwiseSum } from './pairwise-sum.js';
import { drawFromWeights, type TimestepDraw, type TimestepSampler } from './timestep-sampler.js';

export interface LossSecondMomentOptions {
  /** Losses remembered per step (guided-diffusion default 10). */
  historyPerTerm?: number;
  /** Probability mass spread uniformly over all steps (default 0.001). */
  uniformProb?: number;
}

/**
 * Importance sampling of steps by the root mean square of each step's recent losses
 * (guided-diffusion's LossSecondMomentResampler, Nichol & Dhariwal 2021 sec. 3.3). Uniform
 * until every step holds historyPerTerm losses; float64 throughout like the numpy original.
 */
export class LossSecondMomentResampler implements TimestepSampler {
  readonly name = 'loss-second-moment';
  readonly historyPerTerm: number;
  readonly uniformProb: number;
  /** [numTimesteps, historyPerTerm], row-major, oldest loss first. */
  lossHistory: Float64Array;
  lossCounts: Int32Array;

  constructor(
    readonly numTimesteps: number,
    opts: LossSecondMomentOptions = {},
  ) {
    this.historyPerTerm = opts.historyPerTerm ?? 10;
    this.uniformProb = opts.uniformProb ?? 0.001;
    if (!Number.isInteger(numTimesteps) || numTimesteps <= 0) throw new ConfigError('diffusion_steps', `must be a positive integer, got ${numTimesteps}`);
    if (!Number.isInteger(this.historyPerTerm) || this.historyPerTerm <= 0) throw new ConfigError('history_per_term', `must be a positive integer, got ${this.historyPerTerm}`);
    if (!(this.uniformProb >= 0 && this.uniformProb <= 1)) throw new ConfigError('uniform_prob', `must lie in [0, 1], got ${this.uniformProb}`);
    this.lossHistory = new Float64Array(numTimesteps * this.historyPerTerm);
    this.lossCounts = new Int32Array(numTimesteps);
  }

  warmedUp(): boolean {
    for (let i = 0; i < this.numTimesteps; i++) if (this.lossCounts[i] !== this.historyPerTerm) return false;
    return true;
  }

  weights(): Float64Array {
    const T = this.numTimesteps;
    const H = this.historyPerTerm;
    if (!this.warmedUp()) return new Float64Array(T).fill(1);
    const w = new Float64Array(T);
    const sq = new Float64Array(H);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < H; j++) {
        const l = this.lossHistory[i * H + j];
        sq[j] = l * l;
      }
      w[i] = Math.sqrt(pairwiseSum(sq) / H);
    }
    const total = pairwiseSum(w);
    for (let i = 0; i < T; i++) {
      w[i] /= total;
      w[i] *= 1 - this.uniformProb;
      w[i] += this.uniformProb / T;
    }
    return w;
  }

  sample(batch: number, random: RandomSource): TimestepDraw {
    return drawFromWeights(this.weights(), batch, random);
  }

  updateWithAllLosses(ts: ArrayLike<number>, losses: ArrayLike<number>): void {
    const H = this.historyPerTerm;
    if (ts.length !== losses.length) throw new ConfigError('losses', `${losses.length} losses for ${ts.length} timesteps`);
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k];
      if (!Number.isInteger(t) || t < 0 || t >= this.numTimesteps) throw new ConfigError('timesteps', `step ${t} outside [0, ${this.numTimesteps})`);
      const row = t * H;
      if (this.lossCounts[t] === H) {
        // Drop the oldest loss: shift the row left by one.
        this.lossHistory.copyWithin(row, row + 1, row + H);
        this.lossHistory[row + H - 1] = losses[k];
      } else {
        this.lossHistory[row + this.lossCounts[t]] = losses[k];
        this.lossCounts[t] += 1;
      }
    }
  }

  getState(): Map<string, HostTensor> {
    return new Map<string, HostTensor>([
      ['loss_history', { dtype: 'F64', shape: [this.numTimesteps, this.historyPerTerm], data: this.lossHistory.slice() }],
      ['loss_counts', { dtype: 'I32', shape: [this.numTimesteps], data: this.lossCounts.slice() }],
    ]);
  }

  setState(state: Map<string, HostTensor>): void {
    const h = state.get('loss_history');
    const c = state.get('loss_counts');
    if (!h || !c) throw new ConfigError('sampler state', 'loss_history and loss_counts are required for the loss-second-moment sampler');
    if (h.data.length !== this.lossHistory.length || c.data.length !== this.lossCounts.length) {
      throw new ConfigError('sampler state', `expected [${this.numTimesteps}, ${this.historyPerTerm}] history, got [${h.shape.join(', ')}]`);
    }
    this.lossHistory = toFloat64(h).slice();
    this.lossCounts = toInt32(c).slice();
  }
}

