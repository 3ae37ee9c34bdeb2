import { pairwiseSum } from './pairwise-sum.js';
import { ConfigError, type HostTensor, type RandomSource } from '@adm/core';

/** Timesteps drawn for a batch and their importance weights 1 / (T p_t) (float32). */
export interface TimestepDraw {
  t: Int32Array;
  weights: Float32Array;
}

/**
 * A distribution over diffusion steps (guided-diffusion's ScheduleSampler): weights()
 * gives unnormalised probabilities; sample() draws a batch with importance weights so
 * the weighted loss stays an unbiased estimate of the uniform-t objective.
 */
export interface TimestepSampler {
  readonly name: string;
  readonly numTimesteps: number;
  /** Unnormalised per-step weights, float64, length numTimesteps. */
  weights(): Float64Array;
  /** Draw `batch` steps with `random` (inverse CDF of weights()/sum). */
  sample(batch: number, random: RandomSource): TimestepDraw;
  /** Loss-aware samplers: record each example's loss at its step (update_with_all_losses). */
  updateWithAllLosses?(ts: ArrayLike<number>, losses: ArrayLike<number>): void;
  /** State to checkpoint (empty for stateless samplers). */
  getState(): Map<string, HostTensor>;
  setState(state: Map<string, HostTensor>): void;
}

/**
 * np.random.choice(T, size, p) semantics: the cumulative sum of p (normalised so the last
 * value is exactly 1) searched with each uniform draw, side='right'.
 */
export function drawFromWeights(w: Float64Array, batch: number, random: RandomSource): TimestepDraw {
  const n = w.length;
  const total = pairwiseSum(w);
  if (!(total > 0) || !Number.isFinite(total)) throw new ConfigError('timestep sampler', `weights must sum to a positive finite number, got ${total}`);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = w[i] / total;
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += p[i];
    cdf[i] = acc;
  }
  for (let i = 0; i < n; i++) cdf[i] /= acc;
  const u = random.uniform(batch);
  const t = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let lo = 0;
    let hi = n - 1;
    // first index with cdf[i] > u
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > u[b]) hi = mid;
      else lo = mid + 1;
    }
    t[b] = lo;
  }
  return { t, weights: importanceWeights(p, t) };
}

/** float32(1 / (T * p[t])) for each drawn t, p already normalised. */
export function importanceWeights(p: Float64Array, t: ArrayLike<number>): Float32Array {
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = 1 / (p.length * p[t[i]]);
  return out;
}

/** Normalise weights() to probabilities (p = w / sum(w)), float64. */
export function probabilities(w: Float64Array): Float64Array {
  const total = pairwiseSum(w);
  const p = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) p[i] = w[i] / total;
  return p;
}
