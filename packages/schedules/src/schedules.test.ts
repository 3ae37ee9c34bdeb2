import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, createContainer, readSafetensorsFile, TOKENS, toFloat64, type NoiseScheduleFactory } from '@adm/core';
import { describe, expect, it } from 'vitest';
import { accurateCos } from './accurate-cos.js';
import { BetaSchedule } from './beta-schedule.js';
import { cosineAlphaBar, cosineBetas } from './cosine-schedule.js';
import { linearBetas } from './linear-schedule.js';
import { scheduleFactory } from './schedule-factory.js';
import { schedulesModule } from './schedules-module.js';

const caseDir = fileURLToPath(new URL('../../../../shared/fixtures/guided-diffusion/schedule/', import.meta.url));
const haveFixture = existsSync(`${caseDir}case.json`);

function maxAbs(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
  return m;
}

function maxRel(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (d) m = Math.max(m, d / Math.abs(e[i]));
  }
  return m;
}

describe('linear schedule', () => {
  it('is linspace(0.1/T*1e3... ) by the closed form, ending exactly at the end value', () => {
    const T = 2000;
    const b = linearBetas(T);
    const start = (1000 / T) * 0.0001;
    const end = (1000 / T) * 0.02;
    expect(b.length).toBe(T);
    expect(b[0]).toBe(start);
    expect(b[T - 1]).toBe(end);
    for (let i = 0; i < T; i++) expect(Math.abs(b[i] - (start + ((end - start) * i) / (T - 1)))).toBeLessThan(1e-17);
  });

  it('rejects step counts that give betas above 1 or are not positive integers', () => {
    expect(() => scheduleFactory.create('linear', 10)).toThrow(ConfigError); // beta_end = 2
    expect(() => scheduleFactory.create('linear', 0)).toThrow(/positive integer/);
    expect(() => scheduleFactory.create('linear', 2.5)).toThrow(ConfigError);
    expect(() => scheduleFactory.create('quadratic', 1000)).toThrow(/unknown beta schedule "quadratic".*linear, cosine/);
  });
});

describe('cosine schedule', () => {
  it('has alphas_cumprod = abar((t+1)/T) / abar(0) where no beta is capped', () => {
    const T = 500;
    const s = scheduleFactory.create('cosine', T);
    const a0 = Math.cos((0.008 / 1.008) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T - 1; t++) {
      const abar = Math.cos((((t + 1) / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2 / a0;
      expect(Math.abs(s.alphasCumprod[t] - abar) / abar).toBeLessThan(1e-11);
    }
    expect(s.betas[T - 1]).toBe(0.999); // 1 - abar(1)/abar(1 - 1/T) = 1 is capped
  });

  it('evaluates cos correctly rounded (checked against a 60-digit decimal value)', () => {
    // cos(0x1.2735c1025dc06p+0) = 0.40559744329447519607484168... (just below a rounding midpoint)
    const x = 1.153163970067682;
    expect(accurateCos(x)).toBe(0.40559744329447517);
    expect(accurateCos(0)).toBe(1);
    for (const v of [0.1, 0.7, 1.2, 1.5707]) expect(Math.abs(accurateCos(v) - Math.cos(v))).toBeLessThanOrEqual(2.3e-16);
    expect(cosineAlphaBar(0)).toBeCloseTo(Math.cos((0.008 / 1.008) * (Math.PI / 2)) ** 2, 15);
  });
});

describe.skipIf(!haveFixture)('against guided-diffusion (fixtures/guided-diffusion/schedule)', async () => {
  const f64 = haveFixture ? await readSafetensorsFile(`${caseDir}tensors_f64.safetensors`) : undefined;
  const f32 = haveFixture ? await readSafetensorsFile(`${caseDir}tensors.safetensors`) : undefined;
  const spec = haveFixture ? JSON.parse(readFileSync(`${caseDir}case.json`, 'utf8')) : {};

  it('gives get_named_beta_schedule bit for bit (linear) and to the last bit (cosine)', () => {
    expect(Array.from(linearBetas(1000))).toEqual(Array.from(toFloat64(f64!.get('out.linear.betas_raw'))));
    const cos = cosineBetas(1000);
    const e = toFloat64(f64!.get('out.cosine.betas_raw'));
    let differing = 0;
    for (let i = 0; i < 1000; i++) if (cos[i] !== e[i]) differing++;
    expect(differing).toBeLessThanOrEqual(3);
    // beta = 1 - ratio: one ulp of the ratio near 1 is 1.1e-16 in beta
    expect(maxAbs(cos, e)).toBeLessThanOrEqual(1.2e-16);
  });

  it('re-derives betas from alphas_cumprod (respace "") as SpacedDiffusion does', () => {
    for (const name of ['linear', 'cosine']) {
      const s = scheduleFactory.create(name, 1000).respace('');
      expect(maxAbs(s.betas, toFloat64(f64!.get(`out.${name}.betas`)))).toBeLessThanOrEqual(2.3e-16);
      expect(maxRel(s.alphasCumprod, toFloat64(f64!.get(`out.${name}.alphas_cumprod`)))).toBeLessThan(1e-15);
      expect(Array.from(s.timestepMap)).toEqual([...Array(1000).keys()]);
    }
  });

  it('keeps the listed timesteps and their alphas_cumprod for every respacing in the case', () => {
    for (const [spacing, entry] of Object.entries(spec.respacings as Record<string, { timesteps: number[] }>)) {
      expect(Array.from(toFloat64(f32!.get(`out.respace.${spacing}.timesteps`)))).toEqual(entry.timesteps);
      for (const name of ['linear', 'cosine']) {
        const r = scheduleFactory.create(name, 1000).respace(spacing);
        expect(Array.from(r.timestepMap)).toEqual(entry.timesteps);
        expect(r.originalNumSteps).toBe(1000);
        expect(maxRel(r.betas, toFloat64(f64!.get(`out.${name}.respace.${spacing}.betas`)))).toBeLessThan(1e-13);
        expect(maxRel(r.alphasCumprod, toFloat64(f64!.get(`out.${name}.respace.${spacing}.alphas_cumprod`)))).toBeLessThan(1e-15);
      }
    }
  });
});

describe('BetaSchedule.respace', () => {
  it('keeps alphas_cumprod of the kept steps and composes maps when respaced twice', () => {
    const base = scheduleFactory.create('linear', 1000);
    const once = base.respace('100');
    for (let k = 0; k < once.numTimesteps; k++) {
      const orig = once.timestepMap[k];
      expect(Math.abs(once.alphasCumprod[k] - base.alphasCumprod[orig]) / base.alphasCumprod[orig]).toBeLessThan(1e-13);
    }
    const twice = once.respace('ddim10');
    expect(Array.from(twice.timestepMap)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((i) => once.timestepMap[i]));
    expect(twice.originalNumSteps).toBe(1000);
    for (let k = 0; k < 10; k++) {
      const orig = twice.timestepMap[k];
      expect(Math.abs(twice.alphasCumprod[k] - base.alphasCumprod[orig]) / base.alphasCumprod[orig]).toBeLessThan(1e-13);
    }
  });

  it('validates betas', () => {
    expect(() => new BetaSchedule('x', new Float64Array([0.1, 0]))).toThrow(/betas\[1\].*\(0, 1\]/);
    expect(() => new BetaSchedule('x', new Float64Array([]))).toThrow(ConfigError);
  });
});

describe('schedulesModule', () => {
  it('binds the factory to TOKENS.NoiseScheduleFactory', () => {
    const c = createContainer(schedulesModule);
    const f = c.get<NoiseScheduleFactory>(TOKENS.NoiseScheduleFactory);
    expect([...f.names]).toEqual(['linear', 'cosine']);
    expect(f.create('cosine', 50).numTimesteps).toBe(50);
  });
});
