import { SeededRandom } from '@adm/core';
import { describe, expect, it } from 'vitest';
import { LossSecondMomentResampler } from './loss-second-moment-resampler.js';
import { createNamedScheduleSampler } from './named-schedule-sampler.js';
import { pairwiseSum } from './pairwise-sum.js';
import { drawFromWeights } from './timestep-sampler.js';
import { UniformSampler } from './uniform-sampler.js';

describe('LossSecondMomentResampler', () => {
  it('is uniform until every step holds history_per_term losses, then weights by RMS loss', () => {
    const s = new LossSecondMomentResampler(3, { historyPerTerm: 2, uniformProb: 0.1 });
    s.updateWithAllLosses([0, 0, 1, 1, 2], [1, 3, 2, 2, 4]);
    expect(Array.from(s.weights())).toEqual([1, 1, 1]);
    s.updateWithAllLosses([2], [0]);
    // rms: sqrt((1+9)/2), sqrt((4+4)/2), sqrt((16+0)/2)
    const rms = [Math.sqrt(5), 2, Math.sqrt(8)];
    const total = rms[0] + rms[1] + rms[2];
    const w = s.weights();
    rms.forEach((r, i) => expect(w[i]).toBeCloseTo((r / total) * 0.9 + 0.1 / 3, 14));
  });

  it('drops the oldest loss of a full step (history shifts left)', () => {
    const s = new LossSecondMomentResampler(2, { historyPerTerm: 3 });
    s.updateWithAllLosses([1, 1, 1, 1, 1], [10, 20, 30, 40, 50]);
    expect(Array.from(s.lossHistory.subarray(3, 6))).toEqual([30, 40, 50]);
    expect(Array.from(s.lossCounts)).toEqual([0, 3]);
  });

  it('state round-trips through getState/setState', () => {
    const a = new LossSecondMomentResampler(4, { historyPerTerm: 2 });
    a.updateWithAllLosses([0, 1, 2, 3, 0, 1, 2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = new LossSecondMomentResampler(4, { historyPerTerm: 2 });
    b.setState(a.getState());
    expect(Array.from(b.weights())).toEqual(Array.from(a.weights()));
  });

  it('rejects out-of-range steps and unknown sampler names', () => {
    const s = new LossSecondMomentResampler(4);
    expect(() => s.updateWithAllLosses([4], [1])).toThrow(/step 4 outside/);
    expect(() => createNamedScheduleSampler('nope', 10)).toThrow(/unknown sampler "nope"/);
  });
});

describe('drawing timesteps', () => {
  it('importance weights are 1 / (T p_t); uniform gives exactly 1', () => {
    const d = new UniformSampler(10).sample(16, new SeededRandom(3));
    expect(Array.from(d.weights)).toEqual(new Array(16).fill(1));
    for (const t of d.t) expect(t >= 0 && t < 10).toBe(true);
    const w = Float64Array.from([1, 3]);
    const draw = drawFromWeights(w, 400, new SeededRandom(4));
    for (let i = 0; i < 400; i++) expect(draw.weights[i]).toBe(Math.fround(draw.t[i] === 0 ? 1 / (2 * 0.25) : 1 / (2 * 0.75)));
    const ones = draw.t.reduce((a, t) => a + t, 0);
    // Binomial(400, 0.75): mean 300, sd ~8.7.
    expect(ones).toBeGreaterThan(260);
    expect(ones).toBeLessThan(340);
  });

  it('numpy pairwise summation order', () => {
    const a = Float64Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
    // Plain left-to-right sum differs in the last bits; both are close to H_300.
    expect(Math.abs(pairwiseSum(a) - 6.282663880299504)).toBeLessThan(1e-13);
    expect(pairwiseSum([1, 2, 3])).toBe(6);
  });
});
