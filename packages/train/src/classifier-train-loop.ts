import * as tf from '@tensorflow/tfjs';
import { type Classifier, ConfigError, type HasParameters, type RandomSource, SeededRandom } from '@adm/core';
import { join } from 'node:path';
import { AdamW } from './adamw.js';
import { type CheckpointStore, writeFolderAtomic } from './checkpoint-store.js';
import { accumulateGradients, disposeMap, namedGradients } from './gradients.js';
import { BatchOrder, mixSeed } from './image-dataset.js';
import { mean, type MetricsLog, quartileMeans } from './metrics-log.js';
import { latestCheckpointFor, openRun, rewindRunFolder, type RunHooks, runLoop, type RunLoopOptions, storeForSave } from './run-loop.js';
import type { TimestepSampler } from './timestep-sampler.js';
import type { TrainingDiffusion } from './training-diffusion.js';
import { packTrainingState, unpackTrainingState } from './training-state.js';
import { UniformSampler } from './uniform-sampler.js';

export interface ClassifierTrainLoopOptions extends RunLoopOptions {
  classifier: Classifier & HasParameters;
  /** Only numTimesteps and qSample are used. */
  diffusion: Pick<TrainingDiffusion, 'numTimesteps' | 'qSample'>;
  /** classifier_train.py default 0.0; the paper's classifiers used 0.05. */
  weightDecay?: number;
  /** Train on q_sample-noised inputs at uniform t (classifier_train.py noised=True). */
  noised?: boolean;
  /** With annealLr: the lr decays linearly to 0 over `iterations` steps. */
  annealLr?: boolean;
  iterations?: number;
}

export interface ClassifierStepResult {
  step: number;
  lr: number;
  loss: number;
  acc1: number;
  acc5?: number;
}

/** Cross-entropy per example, float32 [N]: -log_softmax(logits)[i, y_i]. */
export function crossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    // oneHot as int32 then cast: float oneHot is wrong on the wasm backend.
    const onehot = tf.cast(tf.oneHot(tf.cast(y, 'int32'), logits.shape[1]), 'float32');
    return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1)) as tf.Tensor1D;
  });
}

/** compute_top_k: 1 when the label is among the k largest logits, else 0 (per example). */
export function topKHits(logits: Float32Array | number[], numClasses: number, y: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const ly = logits[i * numClasses + y[i]];
    let above = 0;
    for (let c = 0; c < numClasses; c++) if (logits[i * numClasses + c] > ly) above++;
    out[i] = above < k ? 1 : 0;
  }
  return out;
}

/**
 * scripts/classifier_train.py: x_t = q_sample(x_0, t, noise) at sampled t, logits =
 * classifier(x_t, t), cross-entropy (acc@1/acc@5 logged), AdamW with weight decay, no EMA.
 */
export class ClassifierTrainLoop {
  readonly params: Map<string, tf.Variable>;
  readonly opt: AdamW;
  readonly sampler: TimestepSampler;
  readonly metrics: MetricsLog;
  readonly store?: CheckpointStore;
  step = 0;
  private readonly order: BatchOrder;
  private readonly seed: number;

  constructor(readonly opts: ClassifierTrainLoopOptions) {
    const info = opts.classifier.info;
    ({ metrics: this.metrics, store: this.store } = openRun(opts, info, 'classifier'));
    if (!opts.data.numClasses) throw new ConfigError('data', `${opts.data.name} has no labels to train a classifier on`);
    if (opts.data.numClasses > info.numClasses) throw new ConfigError('num_classes', `${opts.data.name} has ${opts.data.numClasses} classes, the classifier ${info.numClasses}`);
    if (opts.annealLr && !(opts.iterations && opts.iterations > 0)) throw new ConfigError('anneal_lr', 'needs the number of iterations');
    this.params = opts.classifier.parameters();
    this.seed = opts.seed ?? 0;
    this.opt = new AdamW(this.params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.sampler = opts.scheduleSampler ?? new UniformSampler(opts.diffusion.numTimesteps);
    this.order = new BatchOrder(opts.data.length, this.seed);
  }

  private randomFor(step: number): RandomSource {
    return this.opts.randomForStep ? this.opts.randomForStep(step) : new SeededRandom(mixSeed(this.seed, step, 3));
  }

  /** set_annealed_lr runs before each step: step s uses lr * (1 - s / iterations). */
  lrAt(s: number): number {
    return this.opts.annealLr ? this.opts.lr * (1 - s / this.opts.iterations!) : this.opts.lr;
  }

  runStep(): ClassifierStepResult {
    const { classifier, diffusion, data, batchSize } = this.opts;
    const started = performance.now();
    const s = this.step;
    const lr = this.lrAt(s);
    this.opt.lr = lr;
    const batch = data.batch(this.order.indices(s, batchSize));
    const labels = batch.y!;
    const [N, H, W, C] = batch.shape;
    const per = H * W * C;
    const random = this.randomFor(s);
    const noised = this.opts.noised ?? true;
    const t = noised ? this.sampler.sample(batchSize, random).t : new Int32Array(batchSize);
    const noise = noised ? random.normal(N * per, batch.shape) : undefined;
    const K = classifier.info.numClasses;
    const mb = this.opts.microbatch && this.opts.microbatch > 0 ? this.opts.microbatch : batchSize;
    let grads: Map<string, tf.Tensor> | undefined;
    const losses: number[] = [];
    const acc1: number[] = [];
    const acc5: number[] = [];
    for (let i = 0; i < N; i += mb) {
      const j = Math.min(N, i + mb);
      const tm = t.slice(i, j);
      const xt = tf.tidy(() => {
        const x0 = tf.tensor4d(batch.x.subarray(i * per, j * per), [j - i, H, W, C]);
        return noise ? diffusion.qSample(x0, tm, tf.tensor4d(noise.subarray(i * per, j * per), [j - i, H, W, C])) : x0;
      });
      let logits: tf.Tensor2D | undefined;
      let perExample: tf.Tensor1D | undefined;
      const res = namedGradients(() => {
        const y = tf.tensor1d(labels.slice(i, j), 'int32');
        const lg = classifier.apply(xt, tf.tensor1d(Float32Array.from(tm)));
        const ce = crossEntropy(lg, y);
        logits = tf.keep(lg);
        perExample = tf.keep(ce);
        // backward(loss * len(sub_batch) / len(batch)): microbatch means weighted to the batch mean.
        return tf.mul(tf.mean(ce), (j - i) / N) as tf.Scalar;
      }, this.params);
      res.value.dispose();
      xt.dispose();
      grads = accumulateGradients(grads, res.grads);
      const lv = logits!.dataSync() as Float32Array;
      const yb = labels.subarray(i, j);
      losses.push(...perExample!.dataSync());
      acc1.push(...topKHits(lv, K, yb, 1));
      if (K >= 5) acc5.push(...topKHits(lv, K, yb, 5));
      logits!.dispose();
      perExample!.dispose();
    }
    this.opt.step(grads!);
    disposeMap(grads);
    this.step += 1;
    const kv: Record<string, number> = { train_loss: mean(losses), 'train_acc@1': mean(acc1), ...quartileMeans('train_loss', losses, t, diffusion.numTimesteps) };
    if (acc5.length) kv['train_acc@5'] = mean(acc5);
    this.metrics.addMean(kv);
    this.metrics.addMean({ sec_per_step: (performance.now() - started) / 1000 });
    this.metrics.set({ step: this.step, samples: this.step * batchSize, lr });
    return { step: this.step, lr, loss: kv.train_loss, acc1: kv['train_acc@1'], acc5: kv['train_acc@5'] };
  }

  /** Run until `totalSteps` steps are done (counting resumed ones); see runLoop. */
  run(totalSteps: number, hooks: RunHooks<ClassifierStepResult> = {}): Promise<void> {
    return runLoop(this, totalSteps, hooks);
  }

  async save(): Promise<void> {
    await storeForSave(this.store).save({
      step: this.step,
      tensors: packTrainingState(this.params, this.opt, undefined, this.sampler),
      meta: { adam_step: this.opt.stepCount, seed: this.seed, lr: this.opts.lr, batch_size: this.opts.batchSize, data: this.opts.data.name, config: this.opts.config ?? {}, metrics: this.metrics.getState() },
    });
    if (this.opts.exportModel) await writeFolderAtomic(join(this.opts.runDir!, 'classifier'), this.opts.exportModel);
  }

  /** As TrainLoop.resume: from the newest checkpoint (false: none, step 0), the run folder rewound to it. */
  async resume(): Promise<boolean> {
    const ckpt = await latestCheckpointFor(this.store, this.seed);
    if (!ckpt) {
      await rewindRunFolder(this.store!, this.metrics, undefined);
      return false;
    }
    unpackTrainingState(this.store!.fileFor(ckpt.step), ckpt.tensors, Number(ckpt.meta.adam_step ?? ckpt.step), this.params, this.opt, undefined, this.sampler);
    this.step = ckpt.step;
    await rewindRunFolder(this.store!, this.metrics, ckpt);
    return true;
  }

  dispose(): void {
    this.opt.dispose();
  }
}
