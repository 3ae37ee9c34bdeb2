import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { NoiseScheduleFactory } from '../contracts/noise-schedule.js';
import { ConfigError, ShapeError } from '../errors.js';
import { toFloat64 } from '../io/dtypes.js';
import { readSafetensorsFile } from '../io/node-files.js';
import { createGaussianDiffusion } from './create-gaussian-diffusion.js';
import { FakeDenoiser, testSchedule, wave } from './diffusion-test-utils.js';
import type { ModelMeanType, ModelVarType } from './diffusion-types.js';
import { GaussianDiffusion } from './gaussian-diffusion.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const T = 10;
const BETAS = Array.from({ length: T }, (_, i) => 0.05 + (0.25 * i) / (T - 1));
const SHAPE: [number, number, number, number] = [3, 2, 2, 3];
const TS = [0, 4, 9];
const SIZE = SHAPE.reduce((a, b) => a * b);
const PER = SIZE / SHAPE[0];

/** Independent float64 schedule quantities at step t. */
function host(t: number) {
  let abar = 1;
  for (let i = 0; i <= t; i++) abar *= 1 - BETAS[i];
  const abarPrev = t === 0 ? 1 : abar / (1 - BETAS[t]);
  const beta = BETAS[t];
  const pv = (i: number) => {
    let a = 1;
    for (let k = 0; k <= i; k++) a *= 1 - BETAS[k];
    const ap = i === 0 ? 1 : a / (1 - BETAS[i]);
    return (BETAS[i] * (1 - ap)) / (1 - a);
  };
  return {
    abar,
    abarPrev,
    beta,
    postVar: pv(t),
    postLogVarClipped: Math.log(t === 0 ? pv(1) : pv(t)),
    coef1: (beta * Math.sqrt(abarPrev)) / (1 - abar),
    coef2: ((1 - abarPrev) * Math.sqrt(1 - beta)) / (1 - abar),
  };
}

function diffusion(modelMeanType: ModelMeanType = 'epsilon', modelVarType: ModelVarType = 'learned_range', lossType: 'mse' | 'rescaled_mse' | 'kl' | 'rescaled_kl' = 'mse') {
  return new GaussianDiffusion({ schedule: testSchedule(BETAS), modelMeanType, modelVarType, lossType });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-5, abs = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`[${i}]: ${actual[i]} vs expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

const x0Data = Float32Array.from(wave(SIZE, 1), (v) => Math.round((v + 1) * 127.5) / 127.5 - 1); // uint8 grid
const noiseData = wave(SIZE, 2);
const tOf = (i: number) => TS[Math.floor(i / PER)];

describe('GaussianDiffusion schedule arrays', () => {
  const caseDir = fileURLToPath(new URL('../../../../../shared/fixtures/guided-diffusion/schedule/', import.meta.url));
  it.skipIf(!existsSync(`${caseDir}tensors_f64.safetensors`))('match guided-diffusion GaussianDiffusion.__init__ (float64 fixture)', async () => {
    const f = await readSafetensorsFile(`${caseDir}tensors_f64.safetensors`);
    for (const name of ['linear', 'cosine']) {
      const d = new GaussianDiffusion({
        schedule: testSchedule(toFloat64(f.get(`out.${name}.betas`))),
        modelMeanType: 'epsilon',
        modelVarType: 'fixed_large',
        lossType: 'mse',
      });
      const fields: [string, Float64Array][] = [
        ['alphas_cumprod', d.alphasCumprod],
        ['alphas_cumprod_prev', d.alphasCumprodPrev],
        ['alphas_cumprod_next', d.alphasCumprodNext],
        ['sqrt_alphas_cumprod', d.sqrtAlphasCumprod],
        ['sqrt_one_minus_alphas_cumprod', d.sqrtOneMinusAlphasCumprod],
        ['log_one_minus_alphas_cumprod', d.logOneMinusAlphasCumprod],
        ['sqrt_recip_alphas_cumprod', d.sqrtRecipAlphasCumprod],
        ['sqrt_recipm1_alphas_cumprod', d.sqrtRecipm1AlphasCumprod],
        ['posterior_variance', d.posteriorVariance],
        ['posterior_log_variance_clipped', d.posteriorLogVarianceClipped],
        ['posterior_mean_coef1', d.posteriorMeanCoef1],
        ['posterior_mean_coef2', d.posteriorMeanCoef2],
      ];
      for (const [key, arr] of fields) {
        const e = toFloat64(f.get(`out.${name}.${key}`));
        // numpy and V8 share IEEE sqrt/div; log may differ by one ulp.
        expectClose(arr, e, 1e-15, 0);
      }
    }
  });

  it('follow the formulas at a few steps', () => {
    const d = diffusion();
    for (const t of [0, 1, 5, 9]) {
      const h = host(t);
      expectClose([d.alphasCumprod[t], d.alphasCumprodPrev[t], d.posteriorVariance[t], d.posteriorLogVarianceClipped[t], d.posteriorMeanCoef1[t], d.posteriorMeanCoef2[t]],
        [h.abar, h.abarPrev, h.postVar, h.postLogVarClipped, h.coef1, h.coef2], 1e-13, 1e-300);
    }
    expect(d.alphasCumprodNext[T - 1]).toBe(0);
    expect(d.fixedLargeVariance[0]).toBe(d.posteriorVariance[1]);
    expect(d.fixedLargeVariance[3]).toBe(d.betas[3]);
  });

  it('rejects bad options', () => {
    expect(() => new GaussianDiffusion({ schedule: testSchedule([0.1, 1.5]), modelMeanType: 'epsilon', modelVarType: 'fixed_small', lossType: 'mse' })).toThrow(ConfigError);
    expect(() => new GaussianDiffusion({ schedule: testSchedule(BETAS), modelMeanType: 'eps' as ModelMeanType, modelVarType: 'fixed_small', lossType: 'mse' })).toThrow(/modelMeanType/);
  });
});

describe('gathering constants', () => {
  it('extract rounds float64 values to float32 as [N, 1, 1, 1]', () => {
    const d = diffusion();
    const e = d.extract(d.sqrtRecipm1AlphasCumprod, TS);
    expect(e.shape).toEqual([3, 1, 1, 1]);
    expect(Array.from(e.dataSync())).toEqual(TS.map((t) => Math.fround(d.sqrtRecipm1AlphasCumprod[t])));
    e.dispose();
    expect(() => d.extract(d.betas, [0, 10])).toThrow(/t\[1\].*\[0, 10\)/);
    expect(() => d.extract(d.betas, [1.5])).toThrow(ConfigError);
  });

  it('modelTimesteps maps respaced steps to original ones, rescaled to 1000 when asked', () => {
    const schedule = testSchedule([0.1, 0.2, 0.3], [0, 40, 80], 120);
    const plain = new GaussianDiffusion({ schedule, modelMeanType: 'epsilon', modelVarType: 'fixed_small', lossType: 'mse' });
    const scaled = new GaussianDiffusion({ schedule, modelMeanType: 'epsilon', modelVarType: 'fixed_small', lossType: 'mse', rescaleTimesteps: true });
    const a = plain.modelTimesteps(Int32Array.from([2, 0, 1]));
    const b = scaled.modelTimesteps([2, 1]);
    expect(Array.from(a.dataSync())).toEqual([80, 0, 40]);
    expect(Array.from(b.dataSync())).toEqual([Math.fround(80 * Math.fround(1000 / 120)), Math.fround(40 * Math.fround(1000 / 120))]);
    tf.dispose([a, b]);
  });
});

describe('forward process and posterior', () => {
  it('qSample, qMeanVariance, qPosteriorMeanVariance and the eps/x0 conversions follow the formulas', () => {
    const d = diffusion();
    const before = tf.memory().numTensors;
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const noise = tf.tensor4d(noiseData, SHAPE);
    const xt = d.qSample(x0, TS, noise);
    const q = d.qMeanVariance(x0, TS);
    const post = d.qPosteriorMeanVariance(x0, xt, TS);
    const x0back = d.predictXstartFromEps(xt, TS, noise);
    const epsBack = d.predictEpsFromXstart(xt, TS, x0);
    const xt64 = Array.from(x0Data, (v, i) => Math.sqrt(host(tOf(i)).abar) * v + Math.sqrt(1 - host(tOf(i)).abar) * noiseData[i]);
    expectClose(xt.dataSync(), xt64);
    expectClose(q.mean.dataSync(), Array.from(x0Data, (v, i) => Math.sqrt(host(tOf(i)).abar) * v));
    expectClose(q.variance.dataSync(), Array.from(x0Data, (_, i) => 1 - host(tOf(i)).abar));
    expectClose(q.logVariance.dataSync(), Array.from(x0Data, (_, i) => Math.log(1 - host(tOf(i)).abar)));
    expect(q.variance.shape).toEqual(SHAPE);
    const xtv = xt.dataSync();
    expectClose(post.mean.dataSync(), Array.from(x0Data, (v, i) => host(tOf(i)).coef1 * v + host(tOf(i)).coef2 * xtv[i]));
    expectClose(post.variance.dataSync(), Array.from(x0Data, (_, i) => host(tOf(i)).postVar));
    expectClose(post.logVariance.dataSync(), Array.from(x0Data, (_, i) => host(tOf(i)).postLogVarClipped));
    expectClose(x0back.dataSync(), x0Data, 1e-4, 1e-5);
    expectClose(epsBack.dataSync(), noiseData, 1e-4, 1e-4);
    tf.dispose([x0, noise, xt, q.mean, q.variance, q.logVariance, post.mean, post.variance, post.logVariance, x0back, epsBack]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks shapes', () => {
    const d = diffusion();
    const x = tf.zeros([2, 2, 2, 3]) as tf.Tensor4D;
    expect(() => d.qSample(x, [0, 1, 2], x)).toThrow(ShapeError);
    expect(() => d.pMeanVarianceFromOutput(x, x, [0, 1], { clipDenoised: false })).toThrow(/expected \[2, 2, 2, 6\]/);
    x.dispose();
  });
});

describe('p(x_{t-1} | x_t)', () => {
  const out6 = wave(SIZE * 2, 3);
  const setup = (d: GaussianDiffusion, channels: number) => {
    const xt = tf.tensor4d(wave(SIZE, 4).map((v) => v * 2), SHAPE);
    const data = channels === 6 ? out6 : out6.slice(0, SIZE);
    const out = tf.tensor4d(data, [SHAPE[0], SHAPE[1], SHAPE[2], channels]);
    return { xt, out, xtv: xt.dataSync() as Float32Array, outv: data };
  };

  it('learned_range interpolates log beta and the clipped posterior log-variance; eps gives x0 and the posterior mean', () => {
    const d = diffusion('epsilon', 'learned_range');
    const { xt, out, xtv, outv } = setup(d, 6);
    const before = tf.memory().numTensors;
    for (const clip of [false, true]) {
      const p = d.pMeanVarianceFromOutput(out, xt, TS, { clipDenoised: clip });
      const eps: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < SIZE; i++) {
        eps.push(outv[Math.floor(i / 3) * 6 + (i % 3)]);
        v.push(outv[Math.floor(i / 3) * 6 + 3 + (i % 3)]);
      }
      const x0 = Array.from(xtv, (x, i) => {
        const h = host(tOf(i));
        const r = Math.sqrt(1 / h.abar) * x - Math.sqrt(1 / h.abar - 1) * eps[i];
        return clip ? Math.min(1, Math.max(-1, r)) : r;
      });
      const logVar = v.map((vi, i) => {
        const h = host(tOf(i));
        const f = (vi + 1) / 2;
        return f * Math.log(h.beta) + (1 - f) * h.postLogVarClipped;
      });
      expectClose(p.predXstart.dataSync(), x0, 1e-5, 1e-5);
      expectClose(p.mean.dataSync(), x0.map((x, i) => host(tOf(i)).coef1 * x + host(tOf(i)).coef2 * xtv[i]), 1e-5, 1e-5);
      expectClose(p.logVariance.dataSync(), logVar);
      expectClose(p.variance.dataSync(), logVar.map(Math.exp));
      expectClose(p.eps.dataSync(), eps, 0, 0);
      tf.dispose([p.mean, p.variance, p.logVariance, p.predXstart, p.eps]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, out]);
  });

  it('fixed variances: large uses beta (posterior variance[1] at t = 0), small the posterior variance', () => {
    for (const vt of ['fixed_large', 'fixed_small'] as const) {
      const d = diffusion('epsilon', vt);
      const { xt, out } = setup(d, 3);
      const p = d.pMeanVarianceFromOutput(out, xt, TS, { clipDenoised: true });
      const expected = Array.from({ length: SIZE }, (_, i) => {
        const t = tOf(i);
        return vt === 'fixed_small' ? host(t).postVar : t === 0 ? host(1).postVar : BETAS[t];
      });
      expect(p.variance.shape).toEqual(SHAPE);
      expectClose(p.variance.dataSync(), expected);
      expectClose(p.logVariance.dataSync(), expected.map((e, i) => (vt === 'fixed_small' ? host(tOf(i)).postLogVarClipped : Math.log(e))));
      // the returned eps is not the caller's tensor (disposing it must not dispose `out`)
      expect(p.eps).not.toBe(out);
      tf.dispose([xt, out, p.mean, p.variance, p.logVariance, p.predXstart, p.eps]);
    }
  });

  it('start_x and previous_x model outputs; denoisedFn runs before clipping', () => {
    const dx = diffusion('start_x', 'fixed_small');
    const { xt, out, xtv, outv } = setup(dx, 3);
    const p = dx.pMeanVarianceFromOutput(out, xt, TS, { clipDenoised: true, denoisedFn: (x) => tf.mul(x, 3) });
    const x0 = Array.from(outv, (v) => Math.min(1, Math.max(-1, 3 * v)));
    expectClose(p.predXstart.dataSync(), x0);
    expectClose(p.mean.dataSync(), x0.map((x, i) => host(tOf(i)).coef1 * x + host(tOf(i)).coef2 * xtv[i]));
    // eps consistent with x0: x0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps
    const epsv = p.eps.dataSync();
    expectClose(x0.map((_, i) => Math.sqrt(1 / host(tOf(i)).abar) * xtv[i] - Math.sqrt(1 / host(tOf(i)).abar - 1) * epsv[i]), x0, 1e-4, 1e-4);
    const dp = diffusion('previous_x', 'fixed_small');
    const q = dp.pMeanVarianceFromOutput(out, xt, TS, { clipDenoised: false });
    expectClose(q.mean.dataSync(), outv, 0, 0);
    expectClose(q.predXstart.dataSync(), Array.from(outv, (v, i) => (v - host(tOf(i)).coef2 * xtv[i]) / host(tOf(i)).coef1), 1e-4, 1e-5);
    tf.dispose([xt, out, p.mean, p.variance, p.logVariance, p.predXstart, p.eps, q.mean, q.variance, q.logVariance, q.predXstart, q.eps]);
  });

  it('pMeanVariance feeds the denoiser the original steps and the conditioning', () => {
    const schedule = testSchedule(BETAS.slice(0, 3), [0, 300, 600], 1000);
    const d = new GaussianDiffusion({ schedule, modelMeanType: 'epsilon', modelVarType: 'learned_range', lossType: 'mse' });
    const net = new FakeDenoiser(true);
    const x = tf.tensor4d(wave(SIZE, 5), SHAPE);
    const y = tf.tensor1d([1, 2, 3], 'int32');
    const before = tf.memory().numTensors;
    const p = d.pMeanVariance(net, x, [2, 1, 0], { clipDenoised: true, cond: { y } });
    expect(net.seen[0]).toEqual({ t: [600, 300, 0], y: [1, 2, 3] });
    expect(p.modelOutput.shape).toEqual([3, 2, 2, 6]);
    tf.dispose([p.mean, p.variance, p.logVariance, p.predXstart, p.eps, p.modelOutput]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    net.dispose();
  });
});

/** Independent float64 vb term (bits) and mse of the fake denoiser for example n. */
function hostLosses(net: FakeDenoiser, n: number, xt: Float32Array) {
  const t = TS[n];
  const h = host(t);
  const { eps, v } = net.host(xt, TS, SHAPE);
  let kl = 0;
  let nll = 0;
  let mse = 0;
  const cdf = (x: number) => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  for (let j = 0; j < PER; j++) {
    const i = n * PER + j;
    const x0p = Math.sqrt(1 / h.abar) * xt[i] - Math.sqrt(1 / h.abar - 1) * eps[i];
    const mean = h.coef1 * x0p + h.coef2 * xt[i];
    const f = (v[i] + 1) / 2;
    const lv = f * Math.log(h.beta) + (1 - f) * h.postLogVarClipped;
    const tm = h.coef1 * x0Data[i] + h.coef2 * xt[i];
    const tlv = h.postLogVarClipped;
    kl += 0.5 * (-1 + lv - tlv + Math.exp(tlv - lv) + (tm - mean) ** 2 * Math.exp(-lv));
    const inv = Math.exp(-0.5 * lv);
    const c = x0Data[i] - mean;
    const plus = cdf(inv * (c + 1 / 255));
    const minus = cdf(inv * (c - 1 / 255));
    const lp = x0Data[i] < -0.999 ? Math.log(plus) : x0Data[i] > 0.999 ? Math.log(1 - minus) : Math.log(plus - minus);
    nll -= lp;
    mse += (noiseData[i] - eps[i]) ** 2;
  }
  return { vb: (t === 0 ? nll : kl) / PER / Math.LN2, mse: mse / PER };
}

describe('vb terms and training losses', () => {
  it('trainingLosses (mse, learned range) equals an independent float64 computation', () => {
    const d = diffusion('epsilon', 'learned_range', 'mse');
    const net = new FakeDenoiser(true);
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const noise = tf.tensor4d(noiseData, SHAPE);
    const xt = d.qSample(x0, TS, noise);
    const xtv = xt.dataSync() as Float32Array;
    const before = tf.memory().numTensors;
    const l = d.trainingLosses(net, x0, TS, { noise });
    const exp = TS.map((_, n) => hostLosses(net, n, xtv));
    expectClose(l.mse!.dataSync(), exp.map((e) => e.mse), 1e-5, 1e-6);
    expectClose(l.vb!.dataSync(), exp.map((e) => e.vb), 1e-4, 1e-6);
    expectClose(l.loss.dataSync(), exp.map((e) => e.mse + e.vb), 1e-4, 1e-6);
    expect(net.seen.at(-1)!.t).toEqual(TS);
    tf.dispose([l.loss, l.mse!, l.vb!]);
    expect(tf.memory().numTensors).toBe(before);

    // vbTermsBpd with the raw output gives the same vb
    const out = net.apply(xt, tf.tensor1d(TS), undefined);
    const vb = d.vbTermsBpd(x0, xt, TS, out, false);
    expectClose(vb.output.dataSync(), exp.map((e) => e.vb), 1e-4, 1e-6);
    tf.dispose([x0, noise, xt, out, vb.output, vb.predXstart]);
    net.dispose();
  });

  it('the vb term trains only the variance channels; mse only the mean channels', () => {
    const d = diffusion('epsilon', 'learned_range', 'rescaled_mse');
    const net = new FakeDenoiser(true);
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const noise = tf.tensor4d(noiseData, SHAPE);
    const gVb = tf.variableGrads(() => tf.sum(d.trainingLosses(net, x0, TS, { noise }).vb!) as tf.Scalar, [net.a, net.b]);
    const gMse = tf.variableGrads(() => tf.sum(d.trainingLosses(net, x0, TS, { noise }).mse!) as tf.Scalar, [net.a, net.b]);
    const grad = (g: typeof gVb, v: tf.Variable) => (g.grads[v.name] ? g.grads[v.name].dataSync()[0] : 0);
    expect(grad(gVb, net.a)).toBe(0);
    expect(Math.abs(grad(gVb, net.b))).toBeGreaterThan(1e-6);
    expect(grad(gMse, net.b)).toBe(0);
    expect(Math.abs(grad(gMse, net.a))).toBeGreaterThan(1e-6);
    tf.dispose([gVb.value, gMse.value, ...Object.values(gVb.grads), ...Object.values(gMse.grads), x0, noise]);
    net.dispose();
  });

  it('rescaled_mse scales vb by T / 1000; kl losses are the vb term (times T when rescaled)', () => {
    const net = new FakeDenoiser(true);
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const noise = tf.tensor4d(noiseData, SHAPE);
    const run = (lt: 'mse' | 'rescaled_mse' | 'kl' | 'rescaled_kl') => {
      const l = diffusion('epsilon', 'learned_range', lt).trainingLosses(net, x0, TS, { noise });
      const r = { loss: Array.from(l.loss.dataSync()), vb: l.vb ? Array.from(l.vb.dataSync()) : undefined, mse: l.mse };
      tf.dispose([l.loss, ...(l.mse ? [l.mse] : []), ...(l.vb ? [l.vb] : [])]);
      return r;
    };
    const mse = run('mse');
    const rescaled = run('rescaled_mse');
    expectClose(rescaled.vb!, mse.vb!.map((v) => (v * T) / 1000), 1e-6, 0);
    const kl = run('kl');
    expect(kl.mse).toBeUndefined();
    expectClose(kl.loss, mse.vb!, 1e-6, 0);
    expectClose(run('rescaled_kl').loss, mse.vb!.map((v) => v * T), 1e-6, 0);
    tf.dispose([x0, noise]);
    net.dispose();
  });

  it('draws noise from the random source when none is given', () => {
    const d = diffusion('epsilon', 'fixed_small', 'mse');
    const net = new FakeDenoiser(false);
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const draws: number[] = [];
    const random = { normal: (n: number) => (draws.push(n), Float32Array.from(noiseData)), uniform: () => new Float32Array(), int: () => 0 };
    const a = d.trainingLosses(net, x0, TS, { random });
    const noise = tf.tensor4d(noiseData, SHAPE);
    const b = d.trainingLosses(net, x0, TS, { noise });
    expect(draws).toEqual([SIZE]);
    expect(Array.from(a.loss.dataSync())).toEqual(Array.from(b.loss.dataSync()));
    expect(a.vb).toBeUndefined();
    tf.dispose([x0, noise, a.loss, a.mse!, b.loss, b.mse!]);
    net.dispose();
  });

  it('KL is zero when the model reproduces the true posterior (x0 predicted exactly, fixed small variance)', () => {
    const d = diffusion('start_x', 'fixed_small');
    const x0 = tf.tensor4d(x0Data, SHAPE);
    const noise = tf.tensor4d(noiseData, SHAPE);
    const t = [1, 4, 9];
    const xt = d.qSample(x0, t, noise);
    const vb = d.vbTermsBpd(x0, xt, t, x0, false);
    expectClose(vb.output.dataSync(), [0, 0, 0], 0, 1e-6);
    tf.dispose([x0, noise, xt, vb.output, vb.predXstart]);
  });
});

describe('createGaussianDiffusion', () => {
  const calls: [string, number, string][] = [];
  const factory: NoiseScheduleFactory = {
    names: ['linear'],
    create: (name, steps) => ({
      ...testSchedule(Array.from({ length: steps }, (_, i) => 0.0001 + (0.02 * i) / steps)),
      respace: (spec: string) => {
        calls.push([name, steps, spec]);
        return testSchedule(Array.from({ length: steps }, (_, i) => 0.0001 + (0.02 * i) / steps));
      },
    }),
  };

  it('maps create_gaussian_diffusion flags to the types and always respaces', () => {
    const a = createGaussianDiffusion({ steps: 50, learn_sigma: true, rescale_learned_sigmas: true }, factory);
    expect([a.modelMeanType, a.modelVarType, a.lossType, a.numTimesteps]).toEqual(['epsilon', 'learned_range', 'rescaled_mse', 50]);
    expect(calls.at(-1)).toEqual(['linear', 50, '']);
    const b = createGaussianDiffusion({ steps: 20, sigma_small: true, predict_xstart: true, use_kl: true, timestep_respacing: 'ddim5', rescale_timesteps: true }, factory);
    expect([b.modelMeanType, b.modelVarType, b.lossType, b.rescaleTimesteps]).toEqual(['start_x', 'fixed_small', 'rescaled_kl', true]);
    expect(calls.at(-1)).toEqual(['linear', 20, 'ddim5']);
    expect(createGaussianDiffusion({ steps: 20 }, factory).modelVarType).toBe('fixed_large');
    expect(() => createGaussianDiffusion({ steps: 20, learn_sigmas: true } as never, factory)).toThrow(/learn_sigmas: not a create_gaussian_diffusion argument/);
    expect(() => createGaussianDiffusion({ steps: 20, use_kl: 'yes' } as never, factory)).toThrow(ConfigError);
  });
});
