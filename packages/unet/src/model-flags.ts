import { ConfigError, describeValue } from '@adm/core';

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

/** The field an error names: `file: flag` for a file (path or URL), `where.flag` for code. */
export function flagField(where: string, flag: string): string {
  return /[/\\:]|\.json$/.test(where) ? `${where}: ${flag}` : `${where}.${flag}`;
}

/** The most levels (channel_mult entries), res blocks and attention resolutions a model may have. */
export const MAX_LEVELS = 16;
export const MAX_RES_BLOCKS = 64;
export const MAX_IMAGE_SIZE = 4096;

/** What one known flag may hold (guided-diffusion's argparse types, with their sane ranges). */
export type FlagSpec =
  | { kind: 'int'; min: number; max: number; orMinusOne?: boolean }
  | { kind: 'float'; min: number; below: number }
  | { kind: 'bool' }
  | { kind: 'numbers'; maxItems: number; max: number; integers: boolean }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'name' }
  | { kind: 'respacing' };

const int = (min: number, max: number, orMinusOne = false): FlagSpec => ({ kind: 'int', min, max, orMinusOne });
const bool: FlagSpec = { kind: 'bool' };
const resolutions: FlagSpec = { kind: 'numbers', maxItems: 32, max: MAX_IMAGE_SIZE, integers: true };

/** Every flag a model folder's config.json may set, and what it may hold. */
export const FLAG_SPECS: ReadonlyMap<string, FlagSpec> = new Map<string, FlagSpec>([
  ['model_type', { kind: 'choice', values: ['unet', 'superres', 'classifier'] }],
  ['image_size', int(1, MAX_IMAGE_SIZE)],
  ['large_size', int(1, MAX_IMAGE_SIZE)],
  ['small_size', int(1, MAX_IMAGE_SIZE)],
  ['in_channels', int(1, 1024)],
  ['num_channels', int(1, 8192)],
  ['classifier_width', int(1, 8192)],
  ['num_res_blocks', int(1, MAX_RES_BLOCKS)],
  ['classifier_depth', int(1, MAX_RES_BLOCKS)],
  ['num_heads', int(1, 4096, true)],
  ['num_heads_upsample', int(1, 4096, true)],
  ['num_head_channels', int(1, 65536, true)],
  ['num_classes', int(1, 1_000_000)],
  ['attention_resolutions', resolutions],
  ['classifier_attention_resolutions', resolutions],
  ['channel_mult', { kind: 'numbers', maxItems: MAX_LEVELS, max: 64, integers: false }],
  ['dropout', { kind: 'float', min: 0, below: 1 }],
  ['classifier_pool', { kind: 'choice', values: ['adaptive', 'attention', 'spatial', 'spatial_v2'] }],
  ['diffusion_steps', int(1, 100_000)],
  ['steps', int(1, 100_000)],
  // A schedule's name: "linear" and "cosine" (get_named_beta_schedule), or one a user's
  // ContainerModule registered with the schedule factory, which refuses names it does not know.
  ['noise_schedule', { kind: 'name' }],
  ['timestep_respacing', { kind: 'respacing' }],
  ...[
    'class_cond',
    'use_checkpoint',
    'use_scale_shift_norm',
    'resblock_updown',
    'use_fp16',
    'use_new_attention_order',
    'learn_sigma',
    'sigma_small',
    'use_kl',
    'predict_xstart',
    'rescale_timesteps',
    'rescale_learned_sigmas',
    'classifier_use_fp16',
    'classifier_use_scale_shift_norm',
    'classifier_resblock_updown',
  ].map((k): [string, FlagSpec] => [k, bool]),
]);

/** Longest string and list an unknown (ignored) flag may hold, and the most flags a config may have. */
const MAX_STRING = 4096;
const MAX_LIST = 1024;
const MAX_FLAGS = 1024;

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= MAX_STRING);
}

/** str2bool's words, and 0/1. */
function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string' && v.length <= 8) {
    const s = v.trim().toLowerCase();
    if (['yes', 'true', 't', 'y', '1'].includes(s)) return true;
    if (['no', 'false', 'f', 'n', '0'].includes(s)) return false;
  }
  return undefined;
}

/** int() of a number or a decimal string; undefined when it is not an integer. */
function parseInt10(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.length <= 40 && /^[-+]?\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** The items of a list flag ("1,2,2", [1, 2, 2] or ""), or a reason it is not one. */
function listItems(v: unknown, spec: Extract<FlagSpec, { kind: 'numbers' }>): number[] | string {
  if (v === null || v === '') return [];
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'number') items = [v];
  else if (typeof v === 'string') {
    if (v.length > 20 * spec.maxItems) return `a list of at most ${spec.maxItems} numbers`;
    items = v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) ? Number(s) : s));
  } else return `comma-separated numbers ("1,2,2") or a list of numbers`;
  if (items.length > spec.maxItems) return `at most ${spec.maxItems} entries`;
  const what = spec.integers ? 'integers' : 'numbers';
  for (const x of items) {
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > spec.max || (spec.integers && !Number.isInteger(x))) return `positive ${what} up to ${spec.max}`;
  }
  return items as number[];
}

/** "", "ddimN" or section counts "250" / "10,15,20", as space_timesteps reads them. */
const RESPACING = /^(ddim\d{1,6}|\d{1,6}( *, *\d{1,6})*)?$/;

/**
 * One flag's value in its canonical type (boolean, number, or the list/string as given), or
 * a ConfigError naming the file and flag and saying what was expected.
 */
function checkFlag(where: string, name: string, spec: FlagSpec, v: unknown): FlagValue {
  const fail = (expected: string): never => {
    throw new ConfigError(flagField(where, name), `expected ${expected}, got ${describeValue(v)}`);
  };
  switch (spec.kind) {
    case 'int': {
      const n = parseInt10(v);
      if (n === undefined || ((n < spec.min || n > spec.max) && !(spec.orMinusOne && n === -1))) {
        return fail(`an integer in [${spec.min}, ${spec.max}]${spec.orMinusOne ? ' or -1' : ''}`);
      }
      return n;
    }
    case 'float': {
      const n = typeof v === 'string' && v.trim() !== '' && v.length <= 40 ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < spec.min || n >= spec.below) return fail(`a number in [${spec.min}, ${spec.below})`);
      return n;
    }
    case 'bool': {
      const b = parseBool(v);
      return b === undefined ? fail('a boolean (true/false)') : b;
    }
    case 'numbers': {
      const items = listItems(v, spec);
      if (typeof items === 'string') return fail(items);
      return Array.isArray(v) ? items : v === null ? '' : (v as string | number);
    }
    case 'choice':
      return typeof v === 'string' && spec.values.includes(v) ? v : fail(`one of ${spec.values.map((c) => `"${c}"`).join(', ')}`);
    case 'name':
      return typeof v === 'string' && /^[A-Za-z0-9_.+-]{1,64}$/.test(v) ? v : fail('a name such as "linear" or "cosine" (letters, digits, _ . + -; at most 64)');
    case 'respacing': {
      if (v === null) return '';
      if (typeof v !== 'string' || v.length > MAX_STRING || !RESPACING.test(v.trim())) return fail('"", "ddimN" or step counts such as "250" or "10,15,20"');
      return v;
    }
  }
}

/**
 * Check EVERY value of a model config before anything is built: known flags by type and
 * range (returned in canonical types: booleans, numbers), unknown flags must be flat
 * (numbers, strings, booleans, short lists of them; they are ignored). Errors name the
 * file/where and the flag, and describe bad values without stringifying them whole.
 */
export function checkFlags(flags: unknown, where: string): ModelFlags {
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) throw new ConfigError(where, `expected a JSON object of flags, got ${describeValue(flags)}`);
  const keys = Object.keys(flags);
  if (keys.length > MAX_FLAGS) throw new ConfigError(where, `expected at most ${MAX_FLAGS} flags, got ${keys.length}`);
  const out: ModelFlags = {};
  for (const key of keys) {
    const v = (flags as Record<string, unknown>)[key];
    const shown = key.length > 60 ? `${key.slice(0, 60)}...` : key;
    if (key === '__proto__') throw new ConfigError(flagField(where, shown), 'is not a flag name');
    if (v === undefined) continue;
    const spec = FLAG_SPECS.get(key);
    if (spec) {
      out[key] = checkFlag(where, key, spec, v);
    } else if (isScalar(v) || (Array.isArray(v) && v.length <= MAX_LIST && v.every(isScalar))) {
      out[key] = v as FlagValue;
    } else {
      throw new ConfigError(flagField(where, shown), `unknown flag holding ${describeValue(v)}; a config holds flat flags (numbers, strings, booleans, short lists of them)`);
    }
  }
  if (typeof out.timestep_respacing === 'string') checkRespacing(out.timestep_respacing, Number(out.steps ?? out.diffusion_steps ?? DIFFUSION_DEFAULTS.diffusion_steps), where);
  return out;
}

/** The respacing fits the diffusion's steps (space_timesteps' own checks, so its error names the file). */
function checkRespacing(spec: string, steps: number, where: string): void {
  const s = spec.trim();
  if (s === '') return;
  const fail = (detail: string): never => {
    throw new ConfigError(flagField(where, 'timestep_respacing'), `${describeValue(spec)}: ${detail}`);
  };
  if (s.startsWith('ddim')) {
    const n = Number(s.slice(4));
    for (let stride = 1; stride < steps; stride++) if (Math.ceil(steps / stride) === n) return;
    return fail(`no integer stride takes exactly ${n} of the ${steps} diffusion steps`);
  }
  const counts = s.split(',').map(Number);
  if (counts.length > steps) fail(`${counts.length} sections, more than the ${steps} diffusion steps`);
  counts.forEach((count, i) => {
    const size = Math.floor(steps / counts.length) + (i < steps % counts.length ? 1 : 0);
    if (count > size) fail(`section ${i} of the ${steps} diffusion steps has ${size} steps, cannot take ${count}`);
  });
  if (counts.every((c) => c === 0)) fail('keeps no steps');
}

/** Reads one flag with guided-diffusion's parsing (str2bool for booleans, int() for ints). */
export class FlagReader {
  constructor(
    readonly flags: ModelFlags,
    readonly defaults: Record<string, FlagValue>,
    readonly where: string,
  ) {}

  raw(name: string): FlagValue {
    const v = Object.hasOwn(this.flags, name) ? this.flags[name] : undefined;
    return v === undefined ? this.defaults[name] : v;
  }

  private fail(name: string, expected: string): never {
    throw new ConfigError(flagField(this.where, name), `expected ${expected}, got ${describeValue(this.raw(name))}`);
  }

  int(name: string): number {
    const n = parseInt10(this.raw(name));
    return n === undefined ? this.fail(name, 'an integer') : n;
  }

  float(name: string): number {
    const v = this.raw(name);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && Number.isFinite(n) ? n : this.fail(name, 'a number');
  }

  bool(name: string): boolean {
    const b = parseBool(this.raw(name));
    return b === undefined ? this.fail(name, 'a boolean (true/false)') : b;
  }

  str(name: string): string {
    const v = this.raw(name);
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.join(',');
    return String(v);
  }

  /** A comma-separated list of numbers ("1,2,3,4" or [1, 2, 3, 4]); "" -> []. */
  numbers(name: string): number[] {
    const items = listItems(this.raw(name), { kind: 'numbers', maxItems: MAX_LIST, max: Number.MAX_VALUE, integers: false });
    return typeof items === 'string' ? this.fail(name, 'comma-separated positive numbers') : items;
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
      throw new ConfigError(flagField(where, flag), `no default channel_mult for image size ${imageSize} (guided-diffusion knows 64, 128, 256, 512): give channel_mult explicitly, e.g. "1,2,2"`);
  }
}

/** attention_resolutions (resolutions) -> downsample rates image_size // r. */
export function attentionRates(resolutions: number[], imageSize: number, where: string, flag: string): number[] {
  return resolutions.map((r) => {
    if (!Number.isInteger(r) || r < 1 || r > imageSize) throw new ConfigError(flagField(where, flag), `resolution ${r} is not an integer in [1, ${imageSize}] (the image size)`);
    return Math.floor(imageSize / r);
  });
}
