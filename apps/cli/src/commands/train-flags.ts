// The flags `adm train` and `adm train-classifier` share (model flags, data, run folder, batch,
// lr, cadence, resume, backend, seed): their parseFlags options, their checks, and the start
// of a run (backend, resume, the summary line and progress bar). Defaults that differ between
// the commands (lr, weight decay) are passed in; each command keeps its own --help text.
import { stat } from 'node:fs/promises';
import { ConfigError } from '@adm/core';
import type { ImageDataset } from '@adm/train';
import { startBackend } from '../backend-flag.js';
import { noteLine } from '../output.js';
import { createProgress, type Progress } from '../progress.js';

/** A number flag's value: `dflt` when absent, else a number (an integer when `integer`) >= `min`. */
export function numberFlag(flag: string, v: string | undefined, dflt: number, integer = false, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new ConfigError(`--${flag}`, `expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${v}"`);
  }
  return n;
}

/** parseFlags options of the shared flags; a command spreads its own in before `help`. */
export const TRAIN_FLAG_OPTIONS = {
  preset: { type: 'string' },
  config: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  microbatch: { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'save-every': { type: 'string' },
  'log-every': { type: 'string' },
  resume: { type: 'boolean' },
  'data-limit': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
} as const;

export const HELP_FLAG_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** The parsed values of the shared flags (as parseFlags returns them). */
export type TrainFlagValues = { [K in keyof typeof TRAIN_FLAG_OPTIONS]?: (typeof TRAIN_FLAG_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The shared flags, checked, with the defaults both commands use. */
export interface TrainSettings {
  runDir: string;
  data: string;
  preset?: string;
  config?: string;
  seed: number;
  steps: number;
  batchSize: number;
  microbatch?: number;
  lr: number;
  weightDecay: number;
  saveInterval: number;
  logInterval: number;
  dataLimit?: number;
  resume: boolean;
  backend?: string;
}

/**
 * Check the shared flags: --out, --data and --preset or --config are required; numbers
 * default to 1000 steps, batch 16, no microbatches, save every 500, log every 10, seed 0;
 * `defaults` gives the command's lr and weight decay. Errors name the flag.
 */
export function readTrainFlags(values: TrainFlagValues, defaults: { lr: number; weightDecay: number }): TrainSettings {
  if (!values.out) throw new ConfigError('--out', 'a run folder is required');
  if (!values.data) throw new ConfigError('--data', 'required: mnist or an .npz file');
  if (!values.preset && !values.config) throw new ConfigError('--preset/--config', 'give a preset or a flags JSON file');
  return {
    runDir: values.out,
    data: values.data,
    preset: values.preset,
    config: values.config,
    seed: numberFlag('seed', values.seed, 0, true),
    steps: numberFlag('steps', values.steps, 1000, true, 1),
    batchSize: numberFlag('batch', values.batch, 16, true, 1),
    microbatch: values.microbatch ? numberFlag('microbatch', values.microbatch, 0, true, 1) : undefined,
    lr: numberFlag('lr', values.lr, defaults.lr),
    weightDecay: numberFlag('weight-decay', values['weight-decay'], defaults.weightDecay),
    saveInterval: numberFlag('save-every', values['save-every'], 500, true, 1),
    logInterval: numberFlag('log-every', values['log-every'], 10, true, 1),
    dataLimit: values['data-limit'] ? numberFlag('data-limit', values['data-limit'], 0, true, 1) : undefined,
    resume: !!values.resume,
    backend: values.backend,
  };
}

/** --data: mnist, mnist-test, an .npz file or a folder of .png images (read only once the model is known). */
export async function checkDataFlag(src: string): Promise<void> {
  if (src === 'mnist' || src === 'mnist-test') return;
  const expected = 'expected "mnist", "mnist-test", an .npz file or a folder of .png images';
  const st = await stat(src).catch(() => undefined);
  if (!st) throw new ConfigError('--data', `${src} not found; ${expected}`);
  if (!st.isDirectory() && !src.endsWith('.npz')) throw new ConfigError('--data', `${expected}, got "${src}"`);
}

/** Start the backend of a checked preference (checkBackendFlag), reporting the choice on stderr. */
export async function startTrainingBackend(preference: string | readonly string[], flag: string | undefined): Promise<void> {
  const backend = await startBackend(preference, flag);
  noteLine(`# backend ${backend.name}`);
}

/** What beginTraining needs of a training loop. */
export interface ResumableLoop {
  readonly step: number;
  readonly params: Map<string, { size: number }>;
  resume(): Promise<boolean>;
}

/**
 * Resume when --resume was given, print the run summary (parameters, data, batch, steps) and
 * return the progress bar, started at the loop's step.
 */
export async function beginTraining(loop: ResumableLoop, s: TrainSettings, data: ImageDataset): Promise<Progress> {
  if (s.resume) {
    if (await loop.resume()) noteLine(`# resumed ${s.runDir} at step ${loop.step}`);
    else noteLine(`# ${s.runDir} has no checkpoint yet: starting from step 0`);
  }
  const nParams = [...loop.params.values()].reduce((a, v) => a + v.size, 0);
  noteLine(`# ${nParams} parameters, data ${data.name} (${data.length} images), batch ${s.batchSize}, steps ${loop.step} -> ${s.steps}`);
  return createProgress('train', s.steps, { startAt: loop.step, unit: 'steps' });
}
