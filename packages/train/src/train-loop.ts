import * as tf from '@tensorflow/tfjs';
import { ConfigError, type Denoiser, type HasParameters, type RandomSource, SeededRandom } from '@adm/core';
import { join } from 'node:path';
import { AdamW } from './adamw.js';
import { type CheckpointStore, writeFolderAtomic } from './checkpoint-store.js';
import { EmaParams } from './ema.js';
import { accumulateGradients, disposeMap, namedGradients } from './gradients.js';
import { BatchOrder, mixSeed } from './image-dataset.js';
import { mean, type MetricsLog, quartileMeans } from './metrics-log.js';
import { latestCheckpointFor, openRun, rewindRunFolder, type RunHooks, runLoop, type RunLoopOptions, storeForSave } from './run-loop.js';
import type { TimestepSampler } from './timestep-sampler.js';
import type { TrainingDiffusion } from './training-diffusion.js';
import { packTrainingState, unpackTrainingState } from './training-state.js';
import { UniformSampler } from './uniform-sampler.js';

export interface TrainLoopOptions extends RunLoopOptions {
  model: Denoiser & HasParameters;
  diffusion: TrainingDiffusion;
  /** Split each batch into microbatches of this size (<= 0: no split). Gradients are summed as guided-diffusion does. */
  microbatch?: number;
  /** EMA rates (guided-diffusion ema_rate, default [0.9999]). */
  emaRates?: readonly number[];
  /** Linear decay of the lr to 0 over this many steps (0: constant). */
  lrAnnealSteps?: number;
  /** Feed the dataset labels to the model as y (class-conditional models). */
  classCond?: boolean;
}

/** What one step reports. */
export interface StepResult {
  step: number;
  lr: number;
  loss: number;
  mse?: number;
  vb?: number;
  gradNorm: number;
}

/**
 * guided-diffusion's TrainLoop for a denoiser: batch -> timestep sampler -> q_sample noise
 * -> training_losses (hybrid loss with learned sigma) -> gradients of the weighted batch
 * mean -> AdamW -> EMA -> lr anneal; checkpoints that resume to the identical state.
 */
export class TrainLoop {
  readonly params: Map<string, tf.Variable>;
  readonly opt: AdamW;
  readonly ema: EmaParams;
  readonly sampler: TimestepSampler;
  readonly metrics: MetricsLog;
  readonly store?: CheckpointStore;
  /** Steps completed. */
  step = 0;
  private readonly order: BatchOrder;
  private readonly seed: number;
  private readonly baseLr: number;

  constructor(readonly opts: TrainLoopOptions) {
    const info = opts.model.info;
    ({ metrics: this.metrics, store: this.store } = openRun(opts, info, 'model'));
    if (opts.classCond && !opts.data.numClasses) throw new ConfigError('class_cond', `the model is class-conditional but ${opts.data.name} has no labels`);
    if (opts.classCond && info.numClasses !== undefined && (opts.data.numClasses ?? 0) > info.numClasses) {
      throw new ConfigError('num_classes', `${opts.data.name} has ${opts.data.numClasses} classes, the model ${info.numClasses}`);
    }
    this.params = opts.model.parameters();
    this.seed = opts.seed ?? 0;
    this.baseLr = opts.lr;
    this.opt = new AdamW(this.params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.ema = new EmaParams(this.params, opts.emaRates ?? [0.9999]);
    this.sampler = opts.scheduleSampler ?? new UniformSampler(opts.diffusion.numTimesteps);
    this.order = new BatchOrder(opts.data.length, this.seed);
  }

  private randomFor(step: number): RandomSource {
    return this.opts.randomForStep ? this.opts.randomForStep(step) : new SeededRandom(mixSeed(this.seed, step, 2));
  }

  /** The lr used by step `s` (0-based): _anneal_lr runs after each step, so step s sees (s - 1) / anneal done. */
  lrAt(s: number): number {
    const anneal = this.opts.lrAnnealSteps ?? 0;
    if (!anneal || s === 0) return this.baseLr;
    return this.baseLr * (1 - (s - 1) / anneal);
  }

  /** One optimisation step on the next batch. */
  runStep(): StepResult {
    const { model, diffusion, data, batchSize } = this.opts;
    const started = performance.now();
    const s = this.step;
    const batch = data.batch(this.order.indices(s, batchSize));
    const random = this.randomFor(s);
    const draw = this.sampler.sample(batchSize, random);
    const [N, H, W, C] = batch.shape;
    const noise = random.normal(N * H * W * C, batch.shape);
    const mb = this.opts.microbatch && this.opts.microbatch > 0 ? this.opts.microbatch : batchSize;
    const per = H * W * C;
    let grads: Map<string, tf.Tensor> | undefined;
    const logged: Record<string, number[]> = {};
    for (let i = 0; i < N; i += mb) {
      const j = Math.min(N, i + mb);
      const t = draw.t.slice(i, j);
      let terms: Record<string, tf.Tensor1D> = {};
      const res = namedGradients(() => {
        const x0 = tf.tensor4d(batch.x.subarray(i * per, j * per), [j - i, H, W, C]);
        const eps = tf.tensor4d(noise.subarray(i * per, j * per), [j - i, H, W, C]);
        const y = this.opts.classCond && batch.y ? tf.tensor1d(batch.y.slice(i, j), 'int32') : undefined;
        const out = diffusion.trainingLosses(model, x0, t, { cond: y ? { y } : undefined, noise: eps });
        terms = {};
        for (const [k, v] of Object.entries(out)) if (v) terms[k] = tf.keep(v as tf.Tensor1D);
        return tf.mean(tf.mul(out.loss, tf.tensor1d(draw.weights.slice(i, j)))) as tf.Scalar;
      }, this.params);
      res.value.dispose();
      grads = accumulateGradients(grads, res.grads);
      const lossValues = terms.loss.dataSync();
      this.sampler.updateWithAllLosses?.(t, lossValues);
      for (const [k, v] of Object.entries(terms)) {
        // forward_backward logs the importance-weighted terms (v * weights).
        const vals = Array.from(v.dataSync(), (x, e) => x * draw.weights[i + e]);
        (logged[k] ??= []).push(...vals);
        v.dispose();
      }
    }
    const lr = this.lrAt(s);
    this.opt.lr = lr;
    const sq = tf.tidy(() => tf.addN([...grads!.values()].map((g) => tf.sum(tf.square(g)))));
    const gradNorm = Math.sqrt(sq.dataSync()[0]);
    sq.dispose();
    this.opt.step(grads!);
    disposeMap(grads);
    this.ema.update();
    this.step += 1;
    const result: StepResult = { step: this.step, lr, loss: mean(logged.loss), gradNorm };
    if (logged.mse) result.mse = mean(logged.mse);
    if (logged.vb) result.vb = mean(logged.vb);
    const kv: Record<string, number> = { grad_norm: gradNorm };
    for (const [k, vals] of Object.entries(logged)) {
      kv[k] = mean(vals);
      Object.assign(kv, quartileMeans(k, vals, draw.t, diffusion.numTimesteps));
    }
    this.metrics.addMean(kv);
    this.metrics.addMean({ sec_per_step: (performance.now() - started) / 1000 });
    this.metrics.set({ step: this.step, samples: this.step * batchSize, lr });
    return result;
  }

  /**
   * Run until `totalSteps` steps are done (counting resumed ones), logging every
   * logInterval, saving every saveInterval and at the end. `onStep` sees each result.
   */
  run(totalSteps: number, hooks: RunHooks<StepResult> = {}): Promise<void> {
    return runLoop(this, totalSteps, hooks);
  }

  /** Write the training checkpoint and the model / EMA model folders. */
  async save(): Promise<void> {
    await storeForSave(this.store).save({
      step: this.step,
      tensors: packTrainingState(this.params, this.opt, this.ema, this.sampler),
      meta: {
        adam_step: this.opt.stepCount,
        seed: this.seed,
        lr: this.baseLr,
        batch_size: this.opts.batchSize,
        ema_rate: this.ema.rates,
        schedule_sampler: this.sampler.name,
        data: this.opts.data.name,
        config: this.opts.config ?? {},
        metrics: this.metrics.getState(),
      },
    });
    const exportModel = this.opts.exportModel;
    if (exportModel) {
      const runDir = this.opts.runDir!;
      await writeFolderAtomic(join(runDir, 'model'), exportModel);
      for (const rate of this.ema.rates) await withSwappedValues(this.params, this.ema.get(rate), () => writeFolderAtomic(join(runDir, `ema_${rate}`), exportModel));
    }
  }

  /**
   * Continue from the run folder's newest checkpoint; false when it has none (then from step
   * 0). Either way the run folder is rewound to that point (rewindRunFolder).
   */
  async resume(): Promise<boolean> {
    const ckpt = await latestCheckpointFor(this.store, this.seed);
    if (!ckpt) {
      await rewindRunFolder(this.store!, this.metrics, undefined);
      return false;
    }
    const file = this.store!.fileFor(ckpt.step);
    if (ckpt.meta.batch_size !== undefined && ckpt.meta.batch_size !== this.opts.batchSize) {
      throw new ConfigError('batch_size', `the run was started with batch size ${ckpt.meta.batch_size}; resume with the same (got ${this.opts.batchSize})`);
    }
    unpackTrainingState(file, ckpt.tensors, Number(ckpt.meta.adam_step ?? ckpt.step), this.params, this.opt, this.ema, this.sampler);
    this.step = ckpt.step;
    await rewindRunFolder(this.store!, this.metrics, ckpt);
    return true;
  }

  dispose(): void {
    this.opt.dispose();
    this.ema.dispose();
  }
}

/** Run `f` with `target` holding `values` temporarily (e.g. export the EMA weights). */
export async function withSwappedValues<T>(target: Map<string, tf.Variable>, values: Map<string, tf.Tensor>, f: () => Promise<T>): Promise<T> {
  const saved = new Map<string, tf.Tensor>();
  for (const [name, v] of target) {
    saved.set(name, v.clone());
    v.assign(values.get(name)!);
  }
  try {
    return await f();
  } finally {
    for (const [name, v] of target) v.assign(saved.get(name)!);
    disposeMap(saved);
  }
}
