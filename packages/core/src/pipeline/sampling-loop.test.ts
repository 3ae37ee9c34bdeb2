import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { GuidanceTerm } from '../contracts/guidance.js';
import type { NoiseSchedule } from '../contracts/noise-schedule.js';
import type { Sampler } from '../contracts/sampler.js';
import { GaussianDiffusion } from '../diffusion/gaussian-diffusion.js';
import { SeededRandom } from '../random.js';
import { sampleLoop } from './sampling-loop.js';
import { ToyDenoiser } from './toy-networks.js';

/** Steps 0, 250, 500, 750 of a 1000-step linear schedule, respaced by hand (same abar at the kept steps). */
function respaced(): NoiseSchedule {
  const kept = [0, 250, 500, 750];
  const betas: number[] = [];
  let abar = 1;
  let last = 1;
  for (let i = 0; i < 1000; i++) {
    abar *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
    if (kept.includes(i)) {
      betas.push(1 - abar / last);
      last = abar;
    }
  }
  let prod = 1;
  const b = Float64Array.from(betas);
  return { name: 'test', numTimesteps: 4, originalNumSteps: 1000, betas: b, alphasCumprod: b.map((v) => (prod *= 1 - v)), timestepMap: Int32Array.from(kept), respace: () => { throw new Error('not used'); } };
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('sampleLoop', () => {
  it('walks the respaced indices noisiest first; networks and guidance see the ORIGINAL step index', () => {
    const diffusion = new GaussianDiffusion({ schedule: respaced(), modelMeanType: 'epsilon', modelVarType: 'fixed_small', lossType: 'mse' });
    const inner = new ToyDenoiser({ imageSize: 2, channels: 1, seed: 1 });
    const denoiserT: number[][] = [];
    const denoiser = { info: inner.info, apply: (x: tf.Tensor4D, t: tf.Tensor1D) => (denoiserT.push(Array.from(t.dataSync())), inner.apply(x, t)) };
    const termT: number[][] = [];
    const positions: string[] = [];
    const probe: GuidanceTerm = {
      name: 'probe',
      guide(state, form) {
        termT.push(Array.from(state.modelT.dataSync()));
        positions.push(`${state.step}:${state.index}/${state.numSteps} ${form} t=${Array.from(state.t).join(',')}`);
        return state.pred;
      },
    };
    const sampler: Sampler = { name: 'mean', guidanceForm: 'mean', begin: (ctx) => ({ step: (x, i) => { const p = ctx.predict(x, i); return { sample: p.mean, predXstart: p.predXstart }; }, dispose() {} }) };
    const xT = tf.tensor4d(new SeededRandom(2).normal(8), [2, 2, 2, 1]);
    const seen: string[] = [];
    for (const s of sampleLoop({ diffusion, denoiser, sampler, guidance: [probe], random: new SeededRandom(0), clipDenoised: true, xT })) seen.push(`${s.step}:${s.index}`);
    expect(seen).toEqual(['0:3', '1:2', '2:1', '3:0']);
    expect(denoiserT).toEqual([[750, 750], [500, 500], [250, 250], [0, 0]]);
    expect(termT).toEqual(denoiserT);
    expect(positions).toEqual(['0:3/4 mean t=3,3', '1:2/4 mean t=2,2', '2:1/4 mean t=1,1', '3:0/4 mean t=0,0']);
    // The caller's x_T is not disposed by the loop.
    expect(xT.isDisposed).toBe(false);
    xT.dispose();
    inner.dispose();
  });
});
