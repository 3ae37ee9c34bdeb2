import { ConfigError, describeValue } from '@adm/core';
import { EncoderUNetModel } from './encoder-unet-model.js';
import {
  CLASSIFIER_DEFAULTS,
  DIFFUSION_DEFAULTS,
  FlagReader,
  MODEL_DEFAULTS,
  NUM_CLASSES,
  SR_DEFAULTS,
  attentionRates,
  checkFlags,
  defaultChannelMult,
  flagField,
  type FlagValue,
  type ModelFlags,
} from './model-flags.js';
import { planEncoder, planUNet, type ParameterPlan, type PlanNames } from './parameter-plan.js';
import type { InitOptions } from './parameter-scope.js';
import { SuperResModel } from './superres-model.js';
import { resolveEncoderKwargs, resolveUNetKwargs, type EncoderUNetKwargs, type UNetKwargs } from './unet-kwargs.js';
import { UNetModel } from './unet-model.js';

/** The flags that set each size-relevant kwarg, per model type (errors name the flag a config.json has). */
const UNET_NAMES: PlanNames = { image_size: 'image_size', model_channels: 'num_channels', num_res_blocks: 'num_res_blocks', attention_resolutions: 'attention_resolutions', num_classes: 'num_classes' };
const SR_NAMES: PlanNames = { ...UNET_NAMES, image_size: 'large_size' };
const CLASSIFIER_NAMES: PlanNames = {
  image_size: 'image_size',
  model_channels: 'classifier_width',
  num_res_blocks: 'classifier_depth',
  attention_resolutions: 'classifier_attention_resolutions',
  num_classes: 'num_classes',
};

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
  const f = new FlagReader(checkFlags(flags, where), UNET_FLAG_DEFAULTS, where);
  const imageSize = f.int('image_size');
  const inChannels = f.int('in_channels');
  const mult = f.str('channel_mult') === '' ? defaultChannelMult(imageSize, where) : f.numbers('channel_mult');
  const classCond = f.bool('class_cond');
  return sized('unet', where, {
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
  });
}

/** script_util.create_model: a UNetModel from guided-diffusion's flags (checked and sized first). */
export function createModel(flags: ModelFlags, options: InitOptions = {}, where?: string): UNetModel {
  return new UNetModel(createModelKwargs(flags, where), options);
}

const SR_FLAG_DEFAULTS: Record<string, FlagValue> = { ...SR_DEFAULTS, learn_sigma: false, num_classes: NUM_CLASSES, in_channels: 3 };

/**
 * script_util.sr_create_model's SuperResModel kwargs: image_size = large_size,
 * channel_mult by large_size (64, 256, 512) unless a channel_mult flag is given
 * (extension), never the new attention order (sr_create_model does not pass it).
 */
export function createSuperResModelKwargs(flags: ModelFlags, where = 'sr_create_model'): UNetKwargs {
  const f = new FlagReader(checkFlags(flags, where), SR_FLAG_DEFAULTS, where);
  const large = f.int('large_size');
  let mult: number[];
  if (f.str('channel_mult') !== '') mult = f.numbers('channel_mult');
  else if (large === 512 || large === 256) mult = [1, 1, 2, 2, 4, 4];
  else if (large === 64) mult = [1, 2, 3, 4];
  else throw new ConfigError(flagField(where, 'large_size'), `unsupported large size ${large} (sr_create_model knows 64, 256, 512): give channel_mult explicitly`);
  const inChannels = f.int('in_channels');
  return sized('superres', where, {
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
  });
}

export function createSuperResModel(flags: ModelFlags, options: InitOptions = {}, where?: string): SuperResModel {
  return new SuperResModel(createSuperResModelKwargs(flags, where), options);
}

const CLASSIFIER_FLAG_DEFAULTS: Record<string, FlagValue> = { ...CLASSIFIER_DEFAULTS, num_classes: NUM_CLASSES, in_channels: 3, num_head_channels: 64, channel_mult: '' };

/**
 * script_util.create_classifier's EncoderUNetModel kwargs from its flags
 * (classifier_width, classifier_depth, classifier_attention_resolutions, ...).
 * Extensions for small classifiers: channel_mult (default by image size), num_classes
 * (default 1000), num_head_channels (default 64), in_channels (default 3).
 */
export function createClassifierKwargs(flags: ModelFlags, where = 'create_classifier'): EncoderUNetKwargs {
  const f = new FlagReader(checkFlags(flags, where), CLASSIFIER_FLAG_DEFAULTS, where);
  const imageSize = f.int('image_size');
  const mult = f.str('channel_mult') === '' ? defaultChannelMult(imageSize, where) : f.numbers('channel_mult');
  const pool = f.str('classifier_pool');
  if (!['adaptive', 'attention', 'spatial', 'spatial_v2'].includes(pool)) {
    throw new ConfigError(flagField(where, 'classifier_pool'), `expected adaptive, attention, spatial or spatial_v2, got ${describeValue(pool)}`);
  }
  return sized('classifier', where, {
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
  });
}

/** script_util.create_classifier: the noisy classifier from guided-diffusion's flags. */
export function createClassifier(flags: ModelFlags, options: InitOptions = {}, where?: string): EncoderUNetModel {
  return new EncoderUNetModel(createClassifierKwargs(flags, where), options);
}

/** The parameters (names, PyTorch shapes) and sizes the kwargs imply, errors in the config's flag names. */
function planFor(modelType: ModelType, kwargs: UNetKwargs | EncoderUNetKwargs, where: string): ParameterPlan {
  if (modelType === 'classifier') return planEncoder(resolveEncoderKwargs(kwargs as EncoderUNetKwargs, where, CLASSIFIER_NAMES), where, CLASSIFIER_NAMES);
  // SuperResModel's trunk takes the upsampled low-res image beside x.
  const trunk = modelType === 'superres' ? { ...kwargs, in_channels: 2 * kwargs.in_channels } : kwargs;
  return planUNet(resolveUNetKwargs(trunk as UNetKwargs, where, modelType === 'superres' ? SR_NAMES : UNET_NAMES), where, modelType === 'superres' ? SR_NAMES : UNET_NAMES);
}

/** Plans of the kwargs the create*Kwargs functions returned, so a checked config is sized once. */
const plans = new WeakMap<object, ParameterPlan>();

/** Kwargs returned only once the architecture they describe has been checked and sized. */
function sized<T extends UNetKwargs | EncoderUNetKwargs>(modelType: ModelType, where: string, kwargs: T): T {
  plans.set(kwargs, planFor(modelType, kwargs, where));
  return kwargs;
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
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'model_type' && k !== '__proto__') out[k] = v;
  return out;
}

export type ModelType = 'unet' | 'superres' | 'classifier';

const MODEL_TYPES: readonly ModelType[] = ['unet', 'superres', 'classifier'];

/** Flags only create_classifier reads, and flags only create_model reads. */
const CLASSIFIER_ONLY = ['classifier_width', 'classifier_depth', 'classifier_attention_resolutions', 'classifier_pool'];
const UNET_ONLY = ['num_channels', 'num_res_blocks', 'attention_resolutions', 'class_cond', 'learn_sigma'];

/** A model config checked through and through, with what it will build. */
export interface CheckedModelConfig {
  modelType: ModelType;
  /** Every flag as given, known ones in their canonical types (booleans, numbers). */
  flags: ModelFlags;
  kwargs: UNetKwargs | EncoderUNetKwargs;
  /** The state_dict the network will have (names, PyTorch shapes) and its sizes. */
  plan: ParameterPlan;
}

/**
 * Check a parsed config.json before anything is built: an object of flags, a known
 * model_type (one of `expect` when given), every value's type and range (checkFlags), and
 * the architecture they describe sized (parameter-plan.ts). Errors are ConfigErrors
 * naming `where` (the file) and the flag.
 */
export function checkModelConfig(config: unknown, where: string, expect?: readonly ModelType[]): CheckedModelConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(where, `expected a JSON object of flags, got ${describeValue(config)}`);
  const has = (k: string) => Object.hasOwn(config, k);
  const given = has('model_type') ? (config as { model_type: unknown }).model_type : undefined;
  if (given !== undefined && !MODEL_TYPES.includes(given as ModelType)) {
    throw new ConfigError(flagField(where, 'model_type'), `expected "unet", "superres" or "classifier", got ${describeValue(given)}`);
  }
  // guided-diffusion's configs have no model_type; a classifier's must not be read as a UNet's defaults.
  if (given === undefined && CLASSIFIER_ONLY.some(has) && !UNET_ONLY.some(has)) {
    throw new ConfigError(flagField(where, 'model_type'), `missing, and the flags are a classifier's (${CLASSIFIER_ONLY.filter(has).join(', ')}): add "model_type": "classifier"`);
  }
  const modelType = (given ?? 'unet') as ModelType;
  if (expect && !expect.includes(modelType)) throw new ConfigError(flagField(where, 'model_type'), `holds a ${modelType} model, expected ${expect.join(' or ')}`);
  const flags = checkFlags(config, where);
  const kwargs = modelType === 'classifier' ? createClassifierKwargs(flags, where) : modelType === 'superres' ? createSuperResModelKwargs(flags, where) : createModelKwargs(flags, where);
  return { modelType, flags, kwargs, plan: plans.get(kwargs) ?? planFor(modelType, kwargs, where) };
}

/** Builds the network a config's model_type names; the flags are checked and sized first. */
export function createFromFlags(modelType: ModelType, flags: ModelFlags, options: InitOptions = {}, where?: string): UNetModel | SuperResModel | EncoderUNetModel {
  switch (modelType) {
    case 'unet':
      return createModel(flags, options, where);
    case 'superres':
      return createSuperResModel(flags, options, where);
    case 'classifier':
      return createClassifier(flags, options, where);
    default:
      throw new ConfigError(where ? flagField(where, 'model_type') : 'model_type', `expected "unet", "superres" or "classifier", got ${describeValue(modelType)}`);
  }
}

/** The network a checked config describes (its kwargs were sized by checkModelConfig). */
export function createFromCheckedConfig(config: CheckedModelConfig, options: InitOptions = {}): UNetModel | SuperResModel | EncoderUNetModel {
  if (config.modelType === 'classifier') return new EncoderUNetModel(config.kwargs as EncoderUNetKwargs, options);
  return config.modelType === 'superres' ? new SuperResModel(config.kwargs as UNetKwargs, options) : new UNetModel(config.kwargs as UNetKwargs, options);
}
