import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Denoiser, GaussianDiffusion, type NoiseSchedule, RecordedRandom, sampleLoop, SeededRandom, useBackend } from '@adm/core';
import { DdimSampler } from './ddim-sampler.js';
import { DdpmSampler } from './ddpm-sampler.js';
import { DpmSolverPP2MSampler } from './dpm-solver-pp-sampler.js';

/** A linear schedule over T steps kept every `stride` steps (written here independently of @adm/schedules). */
function testSchedule(T: number, stride = 1): NoiseSchedule {
  const scale = 1000 / T;
  const base = Float64Array.from({ length: T }, (_, i) => scale * 1e-4 + ((scale * 0.02 - scale * 1e-4) * i) / (T - 1));
  const kept = Array.from({ length: T }, (_, i) => i).filter((i) => i % stride === 0);
  const betas: number[] = [];
  let abar = 1;
  let last = 1;
  for (let i = 0; i < T; i++) {
    abar *= 1 - base[i];
    if (kept.includes(i)) {
      betas.push(1 - abar / last);
      last = abar;
    }
  }
  const respaced = Float64Array.from(betas);
  let prod = 1;
  return {
    name: 'test-linear',
    numTimesteps: kept.length,
    originalNumSteps: T,
    betas: respaced,
    alphasCumprod: respaced.map((b) => (prod *= 1 - b)),
    timestepMap: Int32Array.from(kept),
    respace() {
      throw new Error('not used');
    },
  };
}

/** abar at each ORIGINAL step of the test schedule. */
function originalAlphaBar(T: number): Float64Array {
  const s = testSchedule(T);
  const out = new Float64Array(T);
  let a = 1;
  for (let i = 0; i < T; i++) out[i] = a *= 1 - s.betas[i];
  return out;
}

/**
 * The exact eps-predictor for data x0 ~ N(mu, s^2) per pixel:
 * E[eps | x_t] = sqrt(1 - abar) (x_t - sqrt(abar) mu) / (abar s^2 + 1 - abar).
 */
function gaussianOracle(T: number, mu: number, s: number, size: number): Denoiser {
  const abarOrig = originalAlphaBar(T);
  return {
    info: { imageSize: size, inChannels: 1, outChannels: 1, learnSigma: false },
    apply(x, t) {
      return tf.tidy(() => {
        const tv = t.dataSync();
        const a = Float32Array.from(tv, (ti) => abarOrig[ti]);
        const abar = tf.tensor4d(a, [a.length, 1, 1, 1]);
        const num = tf.mul(tf.sqrt(tf.sub(1, abar)), tf.sub(x, tf.mul(tf.sqrt(abar), mu)));
        return tf.div(num, tf.add(tf.mul(abar, s * s), tf.sub(1, abar))) as tf.Tensor4D;
      });
    },
  };
}

function diffusionFor(T: number, stride: number, varType: 'fixed_small' | 'fixed_large' = 'fixed_small') {
  return new GaussianDiffusion({ schedule: testSchedule(T, stride), modelMeanType: 'epsilon', modelVarType: varType, lossType: 'mse' });
}

function runToEnd(o: Parameters<typeof sampleLoop>[0]): Float32Array {
  let out: Float32Array | undefined;
  for (const s of sampleLoop(o)) if (s.index === 0) out = s.sample.dataSync() as Float32Array;
  return out!;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('ODE samplers on Gaussian data (exact answer known)', () => {
  const T = 1000;
  const mu = 0;
  const s = 1;
  const size = 4;
  const xT = () => tf.tensor4d(new SeededRandom(7).normal(2 * size * size), [2, size, size, 1]);
  // The probability-flow ODE maps x_T to mu + s z with z = (x_T - sqrt(abar_T) mu) / sqrt(abar_T s^2 + 1 - abar_T).
  // x_T sits at the first kept step, the largest original index of the respacing.
  function exact(x: Float32Array, stride: number): Float64Array {
    const aT = originalAlphaBar(T)[T - stride];
    return Float64Array.from(x, (v) => mu + (s * (v - Math.sqrt(aT) * mu)) / Math.sqrt(aT * s * s + 1 - aT));
  }
  function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  it('DDIM (eta 0) converges with order 1 and DPM-Solver++(2M) with order 2 to the exact ODE solution', () => {
    const x = xT();
    const errs: Record<string, number[]> = { ddim: [], dpm: [] };
    // 50 then 100 steps.
    for (const stride of [20, 10]) {
      const want = exact(x.dataSync() as Float32Array, stride);
      for (const [name, sampler] of [
        ['ddim', new DdimSampler(0)],
        ['dpm', new DpmSolverPP2MSampler()],
      ] as const) {
        const got = runToEnd({ diffusion: diffusionFor(T, stride), denoiser: gaussianOracle(T, mu, s, size), sampler, random: new SeededRandom(1), clipDenoised: false, xT: x });
        errs[name].push(maxErr(got, want));
      }
    }
    x.dispose();
    // Halving the step: a first-order method's error halves, a second-order one's quarters.
    const ddimRatio = errs.ddim[0] / errs.ddim[1];
    const dpmRatio = errs.dpm[0] / errs.dpm[1];
    expect(ddimRatio).toBeGreaterThan(1.6);
    expect(ddimRatio).toBeLessThan(2.6);
    expect(dpmRatio).toBeGreaterThan(3.3);
    expect(errs.dpm[1]).toBeLessThan(errs.ddim[1] / 2);
  });

  it('DDPM ancestral sampling draws from N(mu, s^2)', () => {
    const [mu, s] = [0.3, 0.5];
    const n = 64;
    const got = runToEnd({
      diffusion: diffusionFor(T, 10),
      denoiser: gaussianOracle(T, mu, s, size),
      sampler: new DdpmSampler(),
      random: new SeededRandom(3),
      clipDenoised: false,
      xT: [n, size, size, 1],
    });
    const mean = got.reduce((a, b) => a + b, 0) / got.length;
    const std = Math.sqrt(got.reduce((a, b) => a + (b - mean) ** 2, 0) / got.length);
    // 1024 draws: standard error of the mean ~0.016, of the std ~3%.
    expect(Math.abs(mean - mu)).toBeLessThan(0.06);
    expect(Math.abs(std - s) / s).toBeLessThan(0.12);
  });
});

describe('DDIM with eta > 0', () => {
  it('one step matches Song et al. Eq. 12 computed in float64', () => {
    const T = 100;
    const stride = 10;
    const diffusion = diffusionFor(T, stride);
    const size = 3;
    const denoiser = gaussianOracle(T, 0.1, 0.7, size);
    const x = tf.tensor4d(new SeededRandom(11).normal(size * size), [1, size, size, 1]);
    const z = new SeededRandom(12).normal(size * size);
    const eta = 0.7;
    const index = 5;
    const run = new DdimSampler(eta).begin({
      diffusion,
      random: new RecordedRandom([z]),
      predict: (xi, i) => {
        const t = new Int32Array(1).fill(i);
        return diffusion.pMeanVariance(denoiser, xi, t, { clipDenoised: false });
      },
    });
    const got = tf.tidy(() => run.step(x, index).sample.dataSync());
    // Independent float64 evaluation.
    const abarOrig = originalAlphaBar(T);
    const a = abarOrig[index * stride];
    const ap = abarOrig[(index - 1) * stride];
    const xs = x.dataSync();
    const sigma = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
    for (let k = 0; k < xs.length; k++) {
      const eps = (Math.sqrt(1 - a) * (xs[k] - Math.sqrt(a) * 0.1)) / (a * 0.49 + 1 - a);
      const x0 = (xs[k] - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
      const want = x0 * Math.sqrt(ap) + Math.sqrt(1 - ap - sigma * sigma) * eps + sigma * z[k];
      expect(Math.abs(got[k] - want)).toBeLessThan(2e-5);
    }
    x.dispose();
  });
});

describe('memory', () => {
  it.each([
    ['ddpm', () => new DdpmSampler()],
    ['ddim', () => new DdimSampler(0.5)],
    ['dpm-solver++', () => new DpmSolverPP2MSampler()],
  ])('%s keeps the tensor count flat over the steps and frees everything at the end', (_name, make) => {
    const T = 50;
    const denoiser = gaussianOracle(T, 0, 1, 2);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (const _s of sampleLoop({ diffusion: diffusionFor(T, 1, 'fixed_large'), denoiser, sampler: make(), random: new SeededRandom(0), clipDenoised: true, xT: [1, 2, 2, 1] })) {
      counts.push(tf.memory().numTensors);
    }
    // (DPM-Solver++ returns x0 itself as the last sample: one tensor fewer at the end.)
    expect(new Set(counts.slice(2, -1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
