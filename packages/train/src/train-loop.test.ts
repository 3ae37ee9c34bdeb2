import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GaussianDiffusion, useBackend } from '@adm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LossSecondMomentResampler } from './loss-second-moment-resampler.js';
import { NpzDataset } from './npz-dataset.js';
import { TrainLoop } from './train-loop.js';
import { linearTestSchedule, TinyDenoiser, toyImages } from './train-test-utils.js';

const SIZE = 8;
const STEPS = 20;

function makeData(n = 8) {
  const { images, labels } = toyImages(n, SIZE, 1, 4);
  return new NpzDataset('toy', { dtype: 'F32', shape: [n, SIZE, SIZE, 1], data: images }, { dtype: 'I32', shape: [n], data: labels });
}

function makeDiffusion() {
  return new GaussianDiffusion({ schedule: linearTestSchedule(STEPS), modelMeanType: 'epsilon', modelVarType: 'learned_range', lossType: 'rescaled_mse' });
}

function makeLoop(model: TinyDenoiser, extra: Partial<ConstructorParameters<typeof TrainLoop>[0]> = {}) {
  return new TrainLoop({
    model,
    diffusion: makeDiffusion(),
    data: makeData(),
    batchSize: 4,
    lr: 3e-3,
    emaRates: [0.9, 0.99],
    classCond: true,
    seed: 7,
    scheduleSampler: new LossSecondMomentResampler(STEPS, { historyPerTerm: 2 }),
    ...extra,
  });
}

const values = (m: Map<string, tf.Tensor>) => new Map([...m].map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('TrainLoop', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'adm-train-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a few steps reduce the hybrid loss on a fixed batch (fixed t and noise)', () => {
    const model = new TinyDenoiser(SIZE, 1, true, 4, 1);
    const loop = makeLoop(model, { scheduleSampler: undefined, lr: 1e-2 });
    const diffusion = makeDiffusion();
    const batch = makeData().batch([0, 1, 2, 3, 4, 5, 6, 7]);
    const evalLoss = () =>
      tf.tidy(() => {
        const x0 = tf.tensor4d(batch.x, batch.shape);
        const noise = tf.tensor4d(Float32Array.from({ length: batch.x.length }, (_, i) => Math.sin(i * 1.7) * 1.2), batch.shape);
        const y = tf.tensor1d(batch.y!, 'int32');
        return tf.mean(diffusion.trainingLosses(model, x0, [1, 3, 5, 7, 9, 11, 13, 15], { cond: { y }, noise }).loss).dataSync()[0];
      });
    const before = evalLoss();
    for (let i = 0; i < 30; i++) loop.runStep();
    const after = evalLoss();
    expect(after).toBeLessThan(0.8 * before);
    loop.dispose();
    model.dispose();
  });

  it('keeps memory flat across steps', () => {
    const model = new TinyDenoiser(SIZE, 1, true, 4, 2);
    const loop = makeLoop(model, { microbatch: 2 });
    loop.runStep();
    loop.runStep();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) loop.runStep();
    expect(tf.memory().numTensors).toBe(n);
    loop.dispose();
    model.dispose();
  });

  it('resuming from a checkpoint reproduces the uninterrupted run exactly', async () => {
    const runDir = join(dir, 'resume');
    // Uninterrupted: 5 steps.
    const m1 = new TinyDenoiser(SIZE, 1, true, 4, 3);
    const l1 = makeLoop(m1);
    await l1.run(5);
    // Interrupted: 3 steps, saved; a fresh process (new model, same init) resumes to 5.
    const m2 = new TinyDenoiser(SIZE, 1, true, 4, 3);
    const l2 = makeLoop(m2, { runDir, saveInterval: 3 });
    await l2.run(3);
    l2.dispose();
    m2.dispose();
    const m3 = new TinyDenoiser(SIZE, 1, true, 4, 3);
    const l3 = makeLoop(m3, { runDir });
    expect(await l3.resume()).toBe(true);
    expect(l3.step).toBe(3);
    await l3.run(5);
    expect(values(m3.parameters())).toEqual(values(m1.parameters()));
    for (const rate of [0.9, 0.99]) expect(values(l3.ema.get(rate))).toEqual(values(l1.ema.get(rate)));
    expect(l3.opt.stepCount).toBe(5);
    const s1 = l1.sampler as LossSecondMomentResampler;
    const s3 = l3.sampler as LossSecondMomentResampler;
    expect(Array.from(s3.lossHistory)).toEqual(Array.from(s1.lossHistory));
    const latest = JSON.parse(await readFile(join(runDir, 'latest.json'), 'utf8'));
    expect(latest.step).toBe(5);
    const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1).step).toBe(5);
    expect(Number.isFinite(lines.at(-1).loss)).toBe(true);
    expect(Number.isFinite(lines.at(-1).vb)).toBe(true);
    for (const l of [l1, l3]) l.dispose();
    for (const m of [m1, m3]) m.dispose();
  });

  it('exports model and EMA folders atomically and keeps only the newest checkpoints', async () => {
    const runDir = join(dir, 'export');
    const model = new TinyDenoiser(SIZE, 1, true, 4, 4);
    const exported: Array<{ dir: string; first: number }> = [];
    const loop = makeLoop(model, {
      runDir,
      saveInterval: 1,
      keepCheckpoints: 2,
      emaRates: [0.5],
      exportModel: async (d) => {
        const { writeFile } = await import('node:fs/promises');
        const first = model.parameters().get('in.bias')!.dataSync()[0];
        exported.push({ dir: d, first });
        await writeFile(join(d, 'config.json'), JSON.stringify({ first }));
      },
    });
    await loop.run(3);
    expect((await readdir(join(runDir, 'checkpoints'))).sort()).toEqual(['step-0000002.safetensors', 'step-0000003.safetensors']);
    const names = (await readdir(runDir)).sort();
    expect(names).toEqual(['checkpoints', 'ema_0.5', 'latest.json', 'metrics.jsonl', 'model']);
    // The EMA export saw the EMA values, and the model's own values came back afterwards.
    const emaFirst = loop.ema.get(0.5).get('in.bias')!.dataSync()[0];
    expect(JSON.parse(await readFile(join(runDir, 'ema_0.5', 'config.json'), 'utf8')).first).toBe(emaFirst);
    expect(JSON.parse(await readFile(join(runDir, 'model', 'config.json'), 'utf8')).first).toBe(model.parameters().get('in.bias')!.dataSync()[0]);
    expect(emaFirst).not.toBe(model.parameters().get('in.bias')!.dataSync()[0]);
    loop.dispose();
    model.dispose();
  });

  it('rejects data that does not fit the model', () => {
    const model = new TinyDenoiser(SIZE + 2, 1, true, 4);
    expect(() => makeLoop(model)).toThrow(/8x8x1 images, the model expects 10x10x1/);
    model.dispose();
  });
});
