// A training process for the kill-and-resume test (train-resume.test.ts; not exported from the
// package): a tiny denoiser or classifier trained in a run folder on the cpu backend.
// Run as `node --import tsx train-test-process.ts '<TestRunOptions as JSON>'` with
// TSX_TSCONFIG_PATH=tsconfig.base.json. It prints "step <n>" after each step and "saved <n>"
// after each save; with `handshake`, it then waits for one byte on stdin before going on, so
// the test decides how far it gets before SIGKILL.
import { readSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GaussianDiffusion, useBackend, writeSafetensorsFile } from '@adm/core';
import { ClassifierTrainLoop } from './classifier-train-loop.js';
import { LossSecondMomentResampler } from './loss-second-moment-resampler.js';
import { NpzDataset } from './npz-dataset.js';
import type { ModelExporter, RunLoopOptions } from './run-loop.js';
import { TrainLoop } from './train-loop.js';
import { linearTestSchedule, TinyClassifier, TinyDenoiser, toyImages } from './train-test-utils.js';

export interface TestRunOptions {
  loop: 'denoiser' | 'classifier';
  runDir: string;
  steps: number;
  resume: boolean;
  handshake: boolean;
}

/** Cadences of the test runs: logging and saving out of step, so a checkpoint falls inside a logging interval. */
const TEST_RUN = { size: 8, classes: 4, images: 12, batch: 4, saveInterval: 4, logInterval: 3, keep: 3, diffusionSteps: 20, seed: 11 } as const;

/** Wait for one byte on stdin (the test's go-ahead); stdin may be non-blocking, so EAGAIN is waited out. */
function waitForGo(): void {
  const buf = Buffer.alloc(1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      if (readSync(0, buf, 0, 1, null) === 1) return;
      throw new Error('stdin closed before the go-ahead');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 2);
    }
  }
}

/** Writes the network's current parameters (model/, or the EMA values swapped in for ema_<rate>/). */
function exporter(params: Map<string, tf.Variable>): ModelExporter {
  return (dir) => writeSafetensorsFile(join(dir, 'model.safetensors'), new Map([...params].map(([n, v]) => [n, { dtype: 'F32' as const, shape: [...v.shape], data: v.dataSync() as Float32Array }])));
}

async function main(opts: TestRunOptions): Promise<void> {
  await useBackend('cpu');
  const { size, classes, images: n } = TEST_RUN;
  const { images, labels } = toyImages(n, size, 1, classes);
  const data = new NpzDataset('toy', { dtype: 'F32', shape: [n, size, size, 1], data: images }, { dtype: 'I32', shape: [n], data: labels });
  const common: RunLoopOptions = {
    data,
    batchSize: TEST_RUN.batch,
    microbatch: 2,
    lr: 3e-3,
    seed: TEST_RUN.seed,
    runDir: opts.runDir,
    saveInterval: TEST_RUN.saveInterval,
    logInterval: TEST_RUN.logInterval,
    keepCheckpoints: TEST_RUN.keep,
  };
  const hooks = {
    onStep: (r: { step: number }) => {
      process.stdout.write(`step ${r.step}\n`);
      if (opts.handshake) waitForGo();
    },
    onSave: async (step: number) => void process.stdout.write(`saved ${step}\n`),
  };
  if (opts.loop === 'denoiser') {
    const model = new TinyDenoiser(size, 1, true, classes, 3);
    const diffusion = new GaussianDiffusion({ schedule: linearTestSchedule(TEST_RUN.diffusionSteps), modelMeanType: 'epsilon', modelVarType: 'learned_range', lossType: 'rescaled_mse' });
    const loop = new TrainLoop({
      ...common,
      model,
      diffusion,
      emaRates: [0.9, 0.99],
      classCond: true,
      lrAnnealSteps: 100,
      scheduleSampler: new LossSecondMomentResampler(TEST_RUN.diffusionSteps, { historyPerTerm: 2 }),
      exportModel: exporter(model.parameters()),
    });
    if (opts.resume) await loop.resume();
    await loop.run(opts.steps, hooks);
  } else {
    const classifier = new TinyClassifier(size, 1, classes, 3);
    const diffusion = new GaussianDiffusion({ schedule: linearTestSchedule(TEST_RUN.diffusionSteps), modelMeanType: 'epsilon', modelVarType: 'fixed_large', lossType: 'mse' });
    const loop = new ClassifierTrainLoop({
      ...common,
      classifier,
      diffusion,
      weightDecay: 0.05,
      annealLr: true,
      iterations: 100,
      exportModel: exporter(classifier.parameters()),
    });
    if (opts.resume) await loop.resume();
    await loop.run(opts.steps, hooks);
  }
}

await main(JSON.parse(process.argv[2]) as TestRunOptions);
