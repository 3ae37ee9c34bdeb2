import { ConfigError } from '@adm/core';

/** guided-diffusion flag values as they appear in config.json or on a command line. */
export type FlagValue = string | number | boolean | null | number[] | undefined;
export type ModelFlags = Record<string, FlagValue>;

/** script_util.model_and_diffusion_defaults() (model part). */
export const MODEL_DEFAULTS = {
  image_size: 64,
  num_channels: 128,
  num_res_blocks: 2,
  num_heads: 4,
  num_heads_upsample: -1,
  num_head_channels: -1,
  attention_resolutions: '16,8',
  channel_mult: '',
  dropout: 0,
  class_cond: false,
  use_checkpoint: false,
  use_scale_shift_norm: true,
  resblock_updown: false,
  use_fp16: false,
  use_new_attention_order: false,
} as const;

/** script_util.diffusion_defaults(). */
export const DIFFUSION_DEFAULTS = {
  learn_sigma: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
} as const;

/** script_util.classifier_defaults(). */
export const CLASSIFIER_DEFAULTS = {
  image_size: 64,
  classifier_use_fp16: false,
  classifier_width: 128,
  classifier_depth: 2,
  classifier_attention_resolutions: '32,16,8',
  classifier_use_scale_shift_norm: true,
  classifier_resblock_updown: true,
  classifier_pool: 'attention',
} as const;

/** script_util.sr_model_and_diffusion_defaults() (model part). */
export const SR_DEFAULTS = {
  large_size: 256,
  small_size: 64,
  ...Object.fromEntries(Object.entries(MODEL_DEFAULTS).filter(([k]) => k !== 'image_size')),
} as Record<string, FlagValue>;

/** script_util.NUM_CLASSES; a `num_classes` flag overrides it (e.g. 10 for MNIST). */
export const NUM_CLASSES = 1000;

/** Reads one flag with guided-diffusion's parsing (str2bool for booleans, int() for ints). */
export class FlagReader {
  constructor(
    readonly flags: ModelFlags,
    readonly defaults: Record<string, FlagValue>,
    readonly where: string,
  ) {}

  raw(name: string): FlagValue {
    const v = this.flags[name];
    return v === undefined ? this.defaults[name] : v;
  }

  int(name: string): number {
    const v = this.raw(name);
    const n = typeof v === 'string' && /^[-+]?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new ConfigError(`${this.where}.${name}`, `expected an integer, got ${JSON.stringify(v)}`);
    return n;
  }

  float(name: string): number {
    const v = this.raw(name);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(`${this.where}.${name}`, `expected a number, got ${JSON.stringify(v)}`);
    return n;
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (['yes', 'true', 't', 'y', '1'].includes(s)) return true;
      if (['no', 'false', 'f', 'n', '0'].includes(s)) return false;
    }
    throw new ConfigError(`${this.where}.${name}`, `expected a boolean (true/false), got ${JSON.stringify(v)}`);
  }

  str(name: string): string {
    const v = this.raw(name);
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.join(',');
    return String(v);
  }

  /** A comma-separated list of numbers ("1,2,3,4" or [1, 2, 3, 4]); "" -> []. */
  numbers(name: string): number[] {
    const v = this.raw(name);
    const parts = Array.isArray(v) ? v : this.str(name).split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (!parts.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
      throw new ConfigError(`${this.where}.${name}`, `expected comma-separated positive numbers, got ${JSON.stringify(v)}`);
    }
    return parts as number[];
  }
}

/** create_model's channel_mult for an image size when the flag is "". */
export function defaultChannelMult(imageSize: number, where: string, flag = 'channel_mult'): number[] {
  switch (imageSize) {
    case 512:
      return [0.5, 1, 1, 2, 2, 4, 4];
    case 256:
      return [1, 1, 2, 2, 4, 4];
    case 128:
      return [1, 1, 2, 3, 4];
    case 64:
      return [1, 2, 3, 4];
    default:
      throw new ConfigError(`${where}.${flag}`, `no default channel_mult for image size ${imageSize} (guided-diffusion knows 64, 128, 256, 512): give channel_mult explicitly, e.g. "1,2,2"`);
  }
}

/** attention_resolutions (resolutions) -> downsample rates image_size // r. */
export function attentionRates(resolutions: number[], imageSize: number, where: string, flag: string): number[] {
  return resolutions.map((r) => {
    if (!Number.isInteger(r)) throw new ConfigError(`${where}.${flag}`, `resolution ${r} is not an integer`);
    return Math.floor(imageSize / r);
  });
}
