import { ConfigError } from '@adm/core';
import { EncoderUNetModel } from './encoder-unet-model.js';
import {
  CLASSIFIER_DEFAULTS,
  DIFFUSION_DEFAULTS,
  FlagReader,
  MODEL_DEFAULTS,
  NUM_CLASSES,
  SR_DEFAULTS,
  attentionRates,
  defaultChannelMult,
  type FlagValue,
  type ModelFlags,
} from './model-flags.js';
import type { InitOptions } from './parameter-scope.js';
import { SuperResModel } from './superres-model.js';
import type { EncoderUNetKwargs, UNetKwargs } from './unet-kwargs.js';
import { UNetModel } from './unet-model.js';

const UNET_FLAG_DEFAULTS: Record<string, FlagValue> = { ...MODEL_DEFAULTS, learn_sigma: DIFFUSION_DEFAULTS.learn_sigma, num_classes: NUM_CLASSES, in_channels: 3 };

/**
 * script_util.create_model's UNetModel kwargs from its flags (snake_case, as in
 * case.json's model_call.kwargs). Extensions: `num_classes` stands for
 * script_util.NUM_CLASSES (default 1000), `in_channels` (default 3, e.g. 1 for MNIST);
 * channel_mult "" picks guided-diffusion's default for the image size; attention
 * resolutions are turned into downsample rates. Flags that are not the model's (the
 * diffusion's, sampling) are ignored.
 */
export function createModelKwargs(flags: ModelFlags, where = 'create_model'): UNetKwargs {
  const f = new FlagReader(flags, UNET_FLAG_DEFAULTS, where);
  const imageSize = f.int('image_size');
  const inChannels = f.int('in_channels');
  const mult = f.str('channel_mult') === '' ? defaultChannelMult(imageSize, where) : f.numbers('channel_mult');
  const classCond = f.bool('class_cond');
  return {
    image_size: imageSize,
    in_channels: inChannels,
    model_channels: f.int('num_channels'),
    out_channels: f.bool('learn_sigma') ? 2 * inChannels : inChannels,
    num_res_blocks: f.int('num_res_blocks'),
    attention_resolutions: attentionRates(f.numbers('attention_resolutions'), imageSize, where, 'attention_resolutions'),
    dropout: f.float('dropout'),
    channel_mult: mult,
    num_classes: classCond ? f.int('num_classes') : null,
    use_checkpoint: f.bool('use_checkpoint'),
    use_fp16: f.bool('use_fp16'),
    num_heads: f.int('num_heads'),
    num_head_channels: f.int('num_head_channels'),
    num_heads_upsample: f.int('num_heads_upsample'),
    use_scale_shift_norm: f.bool('use_scale_shift_norm'),
    resblock_updown: f.bool('resblock_updown'),
    use_new_attention_order: f.bool('use_new_attention_order'),
  };
}

/** script_util.create_model: a UNetModel from guided-diffusion's flags. */
export function createModel(flags: ModelFlags, options: InitOptions = {}): UNetModel {
  return new UNetModel(createModelKwargs(flags), options);
}

const SR_FLAG_DEFAULTS: Record<string, FlagValue> = { ...SR_DEFAULTS, learn_sigma: false, num_classes: NUM_CLASSES, in_channels: 3 };

/**
 * script_util.sr_create_model's SuperResModel kwargs: image_size = large_size,
 * channel_mult by large_size (64, 256, 512) unless a channel_mult flag is given
 * (extension), never the new attention order (sr_create_model does not pass it).
 */
export function createSuperResModelKwargs(flags: ModelFlags, where = 'sr_create_model'): UNetKwargs {
  const f = new FlagReader(flags, SR_FLAG_DEFAULTS, where);
  const large = f.int('large_size');
  let mult: number[];
  if (f.str('channel_mult') !== '') mult = f.numbers('channel_mult');
  else if (large === 512 || large === 256) mult = [1, 1, 2, 2, 4, 4];
  else if (large === 64) mult = [1, 2, 3, 4];
  else throw new ConfigError(`${where}.large_size`, `unsupported large size ${large} (sr_create_model knows 64, 256, 512): give channel_mult explicitly`);
  const inChannels = f.int('in_channels');
  return {
    image_size: large,
    in_channels: inChannels,
    model_channels: f.int('num_channels'),
    out_channels: f.bool('learn_sigma') ? 2 * inChannels : inChannels,
    num_res_blocks: f.int('num_res_blocks'),
    attention_resolutions: attentionRates(f.numbers('attention_resolutions'), large, where, 'attention_resolutions'),
    dropout: f.float('dropout'),
    channel_mult: mult,
    num_classes: f.bool('class_cond') ? f.int('num_classes') : null,
    use_checkpoint: f.bool('use_checkpoint'),
    num_heads: f.int('num_heads'),
    num_head_channels: f.int('num_head_channels'),
    num_heads_upsample: f.int('num_heads_upsample'),
    use_scale_shift_norm: f.bool('use_scale_shift_norm'),
    resblock_updown: f.bool('resblock_updown'),
    use_fp16: f.bool('use_fp16'),
  };
}

export function createSuperResModel(flags: ModelFlags, options: InitOptions = {}): SuperResModel {
  return new SuperResModel(createSuperResModelKwargs(flags), options);
}

const CLASSIFIER_FLAG_DEFAULTS: Record<string, FlagValue> = { ...CLASSIFIER_DEFAULTS, num_classes: NUM_CLASSES, in_channels: 3, num_head_channels: 64, channel_mult: '' };

/**
 * script_util.create_classifier's EncoderUNetModel kwargs from its flags
 * (classifier_width, classifier_depth, classifier_attention_resolutions, ...).
 * Extensions for small classifiers: channel_mult (default by image size), num_classes
 * (default 1000), num_head_channels (default 64), in_channels (default 3).
 */
export function createClassifierKwargs(flags: ModelFlags, where = 'create_classifier'): EncoderUNetKwargs {
  const f = new FlagReader(flags, CLASSIFIER_FLAG_DEFAULTS, where);
  const imageSize = f.int('image_size');
  const mult = f.str('channel_mult') === '' ? defaultChannelMult(imageSize, where) : f.numbers('channel_mult');
  const pool = f.str('classifier_pool');
  if (!['adaptive', 'attention', 'spatial', 'spatial_v2'].includes(pool)) {
    throw new ConfigError(`${where}.classifier_pool`, `expected adaptive, attention, spatial or spatial_v2, got ${JSON.stringify(pool)}`);
  }
  return {
    image_size: imageSize,
    in_channels: f.int('in_channels'),
    model_channels: f.int('classifier_width'),
    out_channels: f.int('num_classes'),
    num_res_blocks: f.int('classifier_depth'),
    attention_resolutions: attentionRates(f.numbers('classifier_attention_resolutions'), imageSize, where, 'classifier_attention_resolutions'),
    channel_mult: mult,
    use_fp16: f.bool('classifier_use_fp16'),
    num_head_channels: f.int('num_head_channels'),
    use_scale_shift_norm: f.bool('classifier_use_scale_shift_norm'),
    resblock_updown: f.bool('classifier_resblock_updown'),
    pool: pool as EncoderUNetKwargs['pool'],
  };
}

/** script_util.create_classifier: the noisy classifier from guided-diffusion's flags. */
export function createClassifier(flags: ModelFlags, options: InitOptions = {}): EncoderUNetModel {
  return new EncoderUNetModel(createClassifierKwargs(flags), options);
}

/** Flags with every default filled in (what a model folder's config.json records). */
export function resolvedFlags(modelType: ModelType, flags: ModelFlags): ModelFlags {
  const base: Record<string, FlagValue> =
    modelType === 'classifier'
      ? { ...CLASSIFIER_FLAG_DEFAULTS }
      : modelType === 'superres'
        ? { ...SR_FLAG_DEFAULTS, ...DIFFUSION_DEFAULTS }
        : { ...UNET_FLAG_DEFAULTS, ...DIFFUSION_DEFAULTS };
  const out: ModelFlags = { model_type: modelType, ...base };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'model_type') out[k] = v;
  return out;
}

export type ModelType = 'unet' | 'superres' | 'classifier';

/** Builds the network a config's model_type names. */
export function createFromFlags(modelType: ModelType, flags: ModelFlags, options: InitOptions = {}): UNetModel | SuperResModel | EncoderUNetModel {
  switch (modelType) {
    case 'unet':
      return createModel(flags, options);
    case 'superres':
      return createSuperResModel(flags, options);
    case 'classifier':
      return createClassifier(flags, options);
    default:
      throw new ConfigError('model_type', `expected "unet", "superres" or "classifier", got ${JSON.stringify(modelType)}`);
  }
}
