import { ConfigError, installLeanGradients, type RandomSource } from '@adm/core';
import { join } from 'node:path';
import { CheckpointStore, type TrainingCheckpoint } from './checkpoint-store.js';
import type { ImageDataset } from './image-dataset.js';
import { MetricsLog } from './metrics-log.js';
import type { TimestepSampler } from './timestep-sampler.js';

/** Writes the model's CURRENT parameters as a model folder into `dir` (config.json + weights). */
export type ModelExporter = (dir: string) => Promise<void>;

/** The options every training loop takes (the denoiser's TrainLoop and the ClassifierTrainLoop). */
export interface RunLoopOptions {
  data: ImageDataset;
  batchSize: number;
  /** Split each batch into microbatches of this size (<= 0: no split). */
  microbatch?: number;
  lr: number;
  weightDecay?: number;
  /** Default: uniform over the diffusion's steps. */
  scheduleSampler?: TimestepSampler;
  seed?: number;
  /** Randomness of step k (timestep draw, then noise). Default: SeededRandom(mix(seed, k)). */
  randomForStep?: (step: number) => RandomSource;
  /** Run folder for checkpoints, model exports and metrics.jsonl; none when absent. */
  runDir?: string;
  saveInterval?: number;
  logInterval?: number;
  keepCheckpoints?: number;
  exportModel?: ModelExporter;
  /** Recorded in checkpoints (e.g. the model flags). */
  config?: Record<string, unknown>;
}

/** What `run` calls back: each step's result, each metrics dump, each save; `signal` stops it between steps. */
export interface RunHooks<R> {
  onStep?: (r: R) => void;
  onLog?: (rec: Record<string, number>) => void;
  onSave?: (step: number) => Promise<void>;
  signal?: AbortSignal;
}

/** What a training loop gives `runLoop`: one step, its metrics, and how it saves. */
export interface SteppedLoop<R> {
  readonly opts: Pick<RunLoopOptions, 'logInterval' | 'saveInterval'>;
  /**
   * Steps completed. `runStep` advances it and `runLoop` reads it afresh on every
   * iteration (a copy taken before the loop would never reach totalSteps).
   */
  readonly step: number;
  readonly metrics: MetricsLog;
  readonly store?: CheckpointStore;
  runStep(): R;
  save(): Promise<void>;
}

/**
 * Run `loop` until `totalSteps` steps are done (counting resumed ones), dumping metrics every
 * logInterval (default 10) and at the last step, saving every saveInterval (0: never) and at
 * the end when the last step was not a save step. An aborted `signal` stops before the next
 * step; the end-of-run save still happens.
 */
export async function runLoop<R>(loop: SteppedLoop<R>, totalSteps: number, hooks: RunHooks<R> = {}): Promise<void> {
  const logInterval = loop.opts.logInterval ?? 10;
  const saveInterval = loop.opts.saveInterval ?? 0;
  while (loop.step < totalSteps) {
    if (hooks.signal?.aborted) break;
    const r = loop.runStep();
    hooks.onStep?.(r);
    if (loop.step % logInterval === 0 || loop.step === totalSteps) {
      const rec = await loop.metrics.dump();
      hooks.onLog?.(rec);
    }
    if (loop.store && saveInterval > 0 && loop.step % saveInterval === 0) {
      await loop.save();
      await hooks.onSave?.(loop.step);
    }
  }
  if (loop.store && (saveInterval <= 0 || loop.step % saveInterval !== 0)) {
    await loop.save();
    await hooks.onSave?.(loop.step);
  }
}

/**
 * The checks and outputs every loop's constructor starts with: installs the lean backward
 * pass, checks the batch size and that the data's images fit the network (`what` names it
 * in the error), and opens metrics.jsonl and the checkpoint store when a run folder is given.
 */
export function openRun(opts: RunLoopOptions, info: { imageSize: number; inChannels: number }, what: string): { metrics: MetricsLog; store?: CheckpointStore } {
  // the stock tfjs backward pass holds every intermediate gradient and saved activation to
  // its end; the lean one (bitwise the same gradients) frees them as it goes (idempotent)
  installLeanGradients();
  if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new ConfigError('batch_size', `must be a positive integer, got ${opts.batchSize}`);
  const { data } = opts;
  if (data.imageSize !== info.imageSize || data.channels !== info.inChannels) {
    throw new ConfigError('data', `${data.name} gives ${data.imageSize}x${data.imageSize}x${data.channels} images, the ${what} expects ${info.imageSize}x${info.imageSize}x${info.inChannels}`);
  }
  const metrics = new MetricsLog(opts.runDir ? join(opts.runDir, 'metrics.jsonl') : undefined);
  return { metrics, store: opts.runDir ? new CheckpointStore(opts.runDir, opts.keepCheckpoints ?? 2) : undefined };
}

/** The store to save into; a ConfigError when the loop was made without a run folder. */
export function storeForSave(store: CheckpointStore | undefined): CheckpointStore {
  if (!store) throw new ConfigError('out', 'no run folder was given, nothing to save into');
  return store;
}

/**
 * Bring the run folder back to checkpoint `ckpt` (undefined: to step 0, no checkpoint yet)
 * after its state was restored: half-written temporary files of the killed run are cleared,
 * metrics.jsonl is cut back to the checkpoint's step (rows after it are logged again) and
 * the means pending at the checkpoint are restored, so the resumed log equals an
 * uninterrupted run's.
 */
export async function rewindRunFolder(store: CheckpointStore, metrics: MetricsLog, ckpt: TrainingCheckpoint | undefined): Promise<void> {
  await store.removeLeftovers();
  await metrics.truncateAfter(ckpt?.step ?? 0);
  metrics.setState(ckpt?.meta.metrics, ckpt ? store.fileFor(ckpt.step) : store.runDir);
}

/**
 * The run folder's newest checkpoint (undefined when it has none), checked to come from a
 * run with the same seed; a ConfigError when the loop was made without a run folder.
 */
export async function latestCheckpointFor(store: CheckpointStore | undefined, seed: number): Promise<TrainingCheckpoint | undefined> {
  if (!store) throw new ConfigError('resume', 'needs a run folder (--out)');
  const ckpt = await store.loadLatest();
  if (!ckpt) return undefined;
  if (ckpt.meta.seed !== undefined && ckpt.meta.seed !== seed) throw new ConfigError('seed', `the run was started with seed ${ckpt.meta.seed}; resume with the same seed (got ${seed})`);
  return ckpt;
}
