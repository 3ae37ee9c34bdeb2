import { ConfigError, describeValue } from '@adm/core';
import { MAX_IMAGE_SIZE, MAX_LEVELS, MAX_RES_BLOCKS, flagField } from './model-flags.js';
import { KWARG_NAMES, planEncoder, planUNet, type PlanNames } from './parameter-plan.js';

/**
 * guided-diffusion's UNetModel constructor keyword arguments, snake_case, exactly as
 * case.json's `model_resolved.kwargs` records them. attention_resolutions holds
 * DOWNSAMPLE RATES (image_size // resolution), as UNetModel receives them.
 */
export interface UNetKwargs {
  image_size: number;
  in_channels: number;
  model_channels: number;
  out_channels: number;
  num_res_blocks: number;
  attention_resolutions: number[];
  dropout?: number;
  channel_mult?: number[];
  conv_resample?: boolean;
  dims?: number;
  num_classes?: number | null;
  /** Gradient checkpointing (recompute each block's activations in the backward pass). */
  use_checkpoint?: boolean;
  /** Accepted for checkpoint compatibility; computation stays float32 here (see README). */
  use_fp16?: boolean;
  num_heads?: number;
  num_head_channels?: number;
  num_heads_upsample?: number;
  use_scale_shift_norm?: boolean;
  resblock_updown?: boolean;
  use_new_attention_order?: boolean;
}

/** EncoderUNetModel (the noisy classifier) keyword arguments; out_channels = number of classes. */
export interface EncoderUNetKwargs extends Omit<UNetKwargs, 'num_classes' | 'num_heads_upsample'> {
  num_heads_upsample?: number;
  pool?: 'adaptive' | 'attention' | 'spatial' | 'spatial_v2';
}

export type ResolvedUNetKwargs = Required<Omit<UNetKwargs, 'num_classes'>> & { num_classes: number | null };
export type ResolvedEncoderKwargs = Required<EncoderUNetKwargs>;

const UNET_DEFAULTS = {
  dropout: 0,
  channel_mult: [1, 2, 4, 8],
  conv_resample: true,
  dims: 2,
  num_classes: null,
  use_checkpoint: false,
  use_fp16: false,
  num_heads: 1,
  num_head_channels: -1,
  num_heads_upsample: -1,
  use_scale_shift_norm: false,
  resblock_updown: false,
  use_new_attention_order: false,
};

const REQUIRED = ['image_size', 'in_channels', 'model_channels', 'out_channels', 'num_res_blocks', 'attention_resolutions'] as const;

function positiveInt(where: string, key: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(flagField(where, key), `expected a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got ${describeValue(v)}`);
  return v;
}

function resolveCommon(where: string, kwargs: Record<string, unknown>, known: Set<string>): Record<string, unknown> {
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw new ConfigError(where, `expected an object of keyword arguments, got ${describeValue(kwargs)}`);
  for (const k of Object.keys(kwargs)) {
    if (!known.has(k)) throw new ConfigError(flagField(where, k.slice(0, 60)), `unknown keyword argument (known: ${[...known].join(', ')})`);
  }
  for (const k of REQUIRED) if (kwargs[k] === undefined) throw new ConfigError(flagField(where, k), 'required keyword argument is missing');
  const out: Record<string, unknown> = { ...UNET_DEFAULTS };
  for (const [k, v] of Object.entries(kwargs)) if (v !== undefined) out[k] = v;
  positiveInt(where, 'image_size', out.image_size, MAX_IMAGE_SIZE);
  positiveInt(where, 'num_res_blocks', out.num_res_blocks, MAX_RES_BLOCKS);
  for (const k of ['in_channels', 'model_channels', 'out_channels']) positiveInt(where, k, out[k]);
  const ar = out.attention_resolutions;
  if (!Array.isArray(ar) || ar.length > 64 || !ar.every((r) => Number.isInteger(r) && r >= 1)) {
    throw new ConfigError(flagField(where, 'attention_resolutions'), `expected a list of downsample rates (positive integers), got ${describeValue(ar)}`);
  }
  const cm = out.channel_mult;
  if (!Array.isArray(cm) || cm.length === 0 || cm.length > MAX_LEVELS || !cm.every((m) => typeof m === 'number' && Number.isFinite(m) && m > 0)) {
    throw new ConfigError(flagField(where, 'channel_mult'), `expected 1 to ${MAX_LEVELS} positive numbers, got ${describeValue(cm)}`);
  }
  if (out.dims !== 2) throw new ConfigError(flagField(where, 'dims'), `only 2-D models are supported, got dims=${describeValue(out.dims)}`);
  const dropout = out.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ConfigError(flagField(where, 'dropout'), `expected a number in [0, 1), got ${describeValue(dropout)}`);
  for (const k of ['num_heads', 'num_head_channels', 'num_heads_upsample']) {
    const v = out[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || (v < 1 && v !== -1)) throw new ConfigError(flagField(where, k), `expected a positive integer or -1, got ${describeValue(v)}`);
  }
  for (const k of ['conv_resample', 'use_checkpoint', 'use_fp16', 'use_scale_shift_norm', 'resblock_updown', 'use_new_attention_order']) {
    if (typeof out[k] !== 'boolean') throw new ConfigError(flagField(where, k), `expected true or false, got ${describeValue(out[k])}`);
  }
  if (out.num_heads_upsample === -1) out.num_heads_upsample = out.num_heads;
  return out;
}

const UNET_KEYS = new Set<string>([...REQUIRED, ...Object.keys(UNET_DEFAULTS)]);

/**
 * UNetModel's kwargs with defaults filled, every value checked, and the architecture they
 * imply sized (parameter-plan.ts) before anything is allocated. `names` maps kwargs to the
 * flags a config.json uses, for errors.
 */
export function resolveUNetKwargs(kwargs: UNetKwargs, where = 'UNetModel', names: PlanNames = KWARG_NAMES): ResolvedUNetKwargs {
  const out = resolveCommon(where, kwargs as unknown as Record<string, unknown>, UNET_KEYS);
  if (out.num_classes !== null) positiveInt(where, 'num_classes', out.num_classes);
  planUNet(out as ResolvedUNetKwargs, where, names);
  return out as ResolvedUNetKwargs;
}

const ENCODER_KEYS = new Set<string>([...UNET_KEYS, 'pool']);
ENCODER_KEYS.delete('num_classes');
const POOLS = ['adaptive', 'attention', 'spatial', 'spatial_v2'];

/** EncoderUNetModel's kwargs, checked and sized like resolveUNetKwargs'. */
export function resolveEncoderKwargs(kwargs: EncoderUNetKwargs, where = 'EncoderUNetModel', names: PlanNames = KWARG_NAMES): ResolvedEncoderKwargs {
  const out = resolveCommon(where, kwargs as unknown as Record<string, unknown>, ENCODER_KEYS);
  delete out.num_classes;
  out.pool ??= 'adaptive';
  if (!POOLS.includes(out.pool as string)) throw new ConfigError(flagField(where, 'pool'), `expected one of ${POOLS.join(', ')}, got ${describeValue(out.pool)}`);
  if (out.pool === 'attention' && out.num_head_channels === -1) throw new ConfigError(flagField(where, 'num_head_channels'), 'pool "attention" needs num_head_channels (it sets the attention pool\'s heads)');
  planEncoder(out as unknown as ResolvedEncoderKwargs, where, names);
  return out as unknown as ResolvedEncoderKwargs;
}
