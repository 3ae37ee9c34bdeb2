import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, GaussianDiffusion, type NoiseSchedule, type Sampler, sampleLoop, SeededRandom, ToyClassifier, ToyDenoiser, useBackend } from '@adm/core';
import { classifierGradientFn } from './classifier-gradient.js';
import { ClassifierFreeGuidance } from './classifier-free-guidance.js';
import { ClassifierGuidance } from './classifier-guidance.js';
import { conditionMean } from './condition-mean.js';
import { conditionScore } from './condition-score.js';
import { parseGuidanceScale } from './guidance-scale.js';

/** A linear schedule over T steps, no respacing (written here, independent of @adm/schedules). */
function testSchedule(T: number): NoiseSchedule {
  const scale = 1000 / Math.max(T, 50);
  const betas = Float64Array.from({ length: T }, (_, i) => scale * 1e-4 + ((scale * 0.02 - scale * 1e-4) * i) / (T - 1));
  let prod = 1;
  return {
    name: 'test-linear',
    numTimesteps: T,
    originalNumSteps: T,
    betas,
    alphasCumprod: betas.map((b) => (prod *= 1 - b)),
    timestepMap: Int32Array.from({ length: T }, (_, i) => i),
    respace() {
      throw new Error('not used');
    },
  };
}

const rand = (seed: number, shape: [number, number, number, number]) => tf.tensor4d(new SeededRandom(seed).normal(shape.reduce((a, b) => a * b)), shape);

beforeAll(async () => {
  await useBackend('cpu');
});

describe('classifier gradient', () => {
  it('equals s * d/dx sum_i log softmax(logits_i)[y_i] by central differences', () => {
    const clf = new ToyClassifier({ imageSize: 3, channels: 2, numClasses: 4, seed: 5 });
    const x = rand(1, [2, 3, 3, 2]);
    const t = tf.tensor1d([10, 700], 'float32');
    const y = tf.tensor1d([3, 1], 'int32');
    const g = classifierGradientFn(clf)(x, t, y, 1.5).dataSync();
    const xs = Float64Array.from(x.dataSync());
    const logp = (v: Float64Array): number =>
      tf.tidy(() => {
        const lp = tf.logSoftmax(clf.apply(tf.tensor4d(Float32Array.from(v), x.shape), t)).arraySync() as number[][];
        return lp[0][3] + lp[1][1];
      });
    const h = 1e-2;
    for (const k of [0, 5, 17, 20, 35]) {
      const p = Float64Array.from(xs);
      const m = Float64Array.from(xs);
      p[k] += h;
      m[k] -= h;
      const fd = (1.5 * (logp(p) - logp(m))) / (2 * h);
      expect(Math.abs(g[k] - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    tf.dispose([x, t, y]);
    clf.dispose();
  });
});

describe('the two guidance forms', () => {
  const T = 20;
  const diffusion = new GaussianDiffusion({ schedule: testSchedule(T), modelMeanType: 'epsilon', modelVarType: 'fixed_large', lossType: 'mse' });
  const shape: [number, number, number, number] = [1, 2, 2, 1];

  it('Algorithm 1 shifts the mean by variance * g and leaves x0', () => {
    const pred = { mean: rand(1, shape), variance: tf.fill(shape, 0.3) as tf.Tensor4D, logVariance: tf.fill(shape, Math.log(0.3)) as tf.Tensor4D, predXstart: rand(2, shape), eps: rand(3, shape) };
    const g = rand(4, shape);
    const out = conditionMean(pred, g);
    const m = pred.mean.dataSync();
    const gv = g.dataSync();
    out.mean.dataSync().forEach((v, i) => expect(v).toBeCloseTo(m[i] + 0.3 * gv[i], 6));
    expect(out.predXstart).toBe(pred.predXstart);
  });

  it('Algorithm 2 moves eps by -sqrt(1 - abar) g and re-derives x0 and the posterior mean (float64 check)', () => {
    const index = 12;
    const t = new Int32Array([index]);
    const x = rand(5, shape);
    const x0 = tf.clipByValue(rand(6, shape), -1, 1) as tf.Tensor4D;
    const g = rand(7, shape);
    const pred = { mean: x0, variance: x0, logVariance: x0, predXstart: x0, eps: x0 };
    const out = conditionScore(diffusion, x, t, pred, g);
    // Independent float64 evaluation from the betas.
    const betas = testSchedule(T).betas;
    let a = 1;
    for (let i = 0; i <= index; i++) a *= 1 - betas[i];
    const ap = a / (1 - betas[index]);
    const xs = x.dataSync();
    const x0s = x0.dataSync();
    const gs = g.dataSync();
    const gotX0 = out.predXstart.dataSync();
    const gotMean = out.mean.dataSync();
    for (let k = 0; k < xs.length; k++) {
      const eps = (xs[k] / Math.sqrt(a) - x0s[k]) / Math.sqrt(1 / a - 1) - Math.sqrt(1 - a) * gs[k];
      const newX0 = xs[k] / Math.sqrt(a) - Math.sqrt(1 / a - 1) * eps;
      const mean = (betas[index] * Math.sqrt(ap) * newX0 + (1 - ap) * Math.sqrt(1 - betas[index]) * xs[k]) / (1 - a);
      expect(Math.abs(gotX0[k] - newX0)).toBeLessThan(1e-4);
      expect(Math.abs(gotMean[k] - mean)).toBeLessThan(1e-4);
    }
  });
});

describe('ClassifierGuidance in a run', () => {
  const T = 8;
  const diffusion = new GaussianDiffusion({ schedule: testSchedule(T), modelMeanType: 'epsilon', modelVarType: 'learned_range', lossType: 'mse' });
  const denoiser = new ToyDenoiser({ imageSize: 3, channels: 1, learnSigma: true, seed: 3 });
  const classifier = new ToyClassifier({ imageSize: 3, channels: 1, numClasses: 3, seed: 4 });
  // Probe samplers: step to the guided x0 (eps form) or the guided mean (mean form).
  const probe = (form: 'eps' | 'mean'): Sampler => ({
    name: `probe-${form}`,
    guidanceForm: form,
    begin: (ctx) => ({
      step: (x, i) => {
        const p = ctx.predict(x, i);
        return { sample: form === 'eps' ? p.predXstart : p.mean, predXstart: p.predXstart };
      },
      dispose() {},
    }),
  });
  const eps = probe('eps');

  function final(guidance: ClassifierGuidance[], sampler: Sampler): Float32Array {
    const labels = tf.tensor1d([0, 2], 'int32');
    const xT = rand(9, [2, 3, 3, 1]);
    let out: Float32Array | undefined;
    for (const s of sampleLoop({ diffusion, denoiser, sampler, guidance, labels, random: new SeededRandom(0), clipDenoised: true, xT })) out = s.sample.dataSync() as Float32Array;
    tf.dispose([labels, xT]);
    return out!;
  }

  it('terms compose: two terms of scale s equal one of scale 2s; scale 0 is no guidance', () => {
    for (const sampler of [eps, probe('mean')]) {
      const twice = final([new ClassifierGuidance({ scale: 1.5, classifier }), new ClassifierGuidance({ scale: 1.5, classifier })], sampler);
      const once = final([new ClassifierGuidance({ scale: 3, classifier })], sampler);
      const none = final([], sampler);
      const zero = final([new ClassifierGuidance({ scale: 0, classifier })], sampler);
      once.forEach((v, i) => expect(Math.abs(v - twice[i])).toBeLessThan(1e-4));
      expect(zero).toEqual(none);
      expect(Math.max(...once.map((v, i) => Math.abs(v - none[i])))).toBeGreaterThan(1e-3);
    }
  });

  it('a scale schedule sees each step position', () => {
    const seen: number[] = [];
    final([new ClassifierGuidance({ scale: (p) => (seen.push(p.step), 1), classifier })], eps);
    expect([...new Set(seen)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('ClassifierFreeGuidance', () => {
  it('mixes (1 + w) eps(x, y) - w eps(x, null) and keeps the conditional variance channels', () => {
    const d = new ToyDenoiser({ imageSize: 2, channels: 2, learnSigma: true, numClasses: 5, seed: 8 });
    const w = 2.5;
    const wrapped = new ClassifierFreeGuidance({ scale: w, nullLabel: 4 }).wrapDenoiser(d, () => ({ index: 0, step: 0, numSteps: 1 }));
    const x = rand(3, [2, 2, 2, 2]);
    const t = tf.tensor1d([5, 600]);
    const y = tf.tensor1d([1, 3], 'int32');
    const got = wrapped.apply(x, t, { y }).arraySync() as number[][][][];
    const c = d.apply(x, t, { y }).arraySync() as number[][][][];
    const u = d.apply(x, t, { y: tf.tensor1d([4, 4], 'int32') }).arraySync() as number[][][][];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++)
          for (let k = 0; k < 4; k++) {
            const want = k < 2 ? (1 + w) * c[n][i][j][k] - w * u[n][i][j][k] : c[n][i][j][k];
            expect(got[n][i][j][k]).toBeCloseTo(want, 5);
          }
  });

  it('needs a null label or an unconditional model', () => {
    expect(() => new ClassifierFreeGuidance({ scale: 1 })).toThrow(ConfigError);
  });
});

describe('parseGuidanceScale', () => {
  it('accepts a number, a from/to schedule and a per-step list, and names the field on errors', () => {
    expect(parseGuidanceScale(2, 'g')).toBe(2);
    const lin = parseGuidanceScale({ from: 4, to: 1 }, 'g') as (p: { index: number; step: number; numSteps: number }) => number;
    expect([0, 1, 2, 3].map((step) => lin({ step, index: 3 - step, numSteps: 4 }))).toEqual([4, 3, 2, 1]);
    const cos = parseGuidanceScale({ from: 0, to: 2, schedule: 'cosine' }, 'g') as (p: { index: number; step: number; numSteps: number }) => number;
    expect(cos({ step: 1, index: 1, numSteps: 3 })).toBeCloseTo(1, 12);
    const list = parseGuidanceScale([1, 2], 'g') as (p: { index: number; step: number; numSteps: number }) => number;
    expect(list({ step: 1, index: 0, numSteps: 2 })).toBe(2);
    expect(() => parseGuidanceScale('big', 'pipeline.guidance[0].scale')).toThrow(/pipeline\.guidance\[0\]\.scale/);
    expect(() => parseGuidanceScale({ from: 1, to: 2, schedule: 'exp' }, 'g')).toThrow(/g\.schedule/);
  });
});
