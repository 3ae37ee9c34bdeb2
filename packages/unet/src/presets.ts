import { ConfigError } from '@adm/core';
import type { ModelType } from './create-model.js';
import type { ModelFlags } from './model-flags.js';

/** A named configuration: which network and its guided-diffusion flags (architecture + diffusion). */
export interface ModelPreset {
  modelType: ModelType;
  description: string;
  flags: ModelFlags;
}

// The released models' flags (openai/guided-diffusion README, "Model flags" and the
// classifier_sample.py / super_res_sample.py commands).
const imagenetCommon = {
  attention_resolutions: '32,16,8',
  diffusion_steps: 1000,
  learn_sigma: true,
  num_res_blocks: 2,
  resblock_updown: true,
  use_fp16: true,
  use_scale_shift_norm: true,
};

const classifierCommon = {
  classifier_attention_resolutions: '32,16,8',
  classifier_width: 128,
  classifier_pool: 'attention',
  classifier_resblock_updown: true,
  classifier_use_scale_shift_norm: true,
  classifier_use_fp16: true,
};

export const PRESETS: Record<string, ModelPreset> = {
  imagenet64: {
    modelType: 'unet',
    description: 'ImageNet 64x64 class-conditional ADM (64x64_diffusion.pt, 296M parameters)',
    flags: { ...imagenetCommon, class_cond: true, dropout: 0.1, image_size: 64, noise_schedule: 'cosine', num_channels: 192, num_head_channels: 64, num_res_blocks: 3, use_new_attention_order: true },
  },
  imagenet128: {
    modelType: 'unet',
    description: 'ImageNet 128x128 class-conditional ADM (128x128_diffusion.pt)',
    flags: { ...imagenetCommon, class_cond: true, image_size: 128, noise_schedule: 'linear', num_channels: 256, num_heads: 4 },
  },
  imagenet256: {
    modelType: 'unet',
    description: 'ImageNet 256x256 class-conditional ADM (256x256_diffusion.pt)',
    flags: { ...imagenetCommon, class_cond: true, image_size: 256, noise_schedule: 'linear', num_channels: 256, num_head_channels: 64 },
  },
  'imagenet256-uncond': {
    modelType: 'unet',
    description: 'ImageNet 256x256 unconditional ADM (256x256_diffusion_uncond.pt)',
    flags: { ...imagenetCommon, class_cond: false, image_size: 256, noise_schedule: 'linear', num_channels: 256, num_head_channels: 64 },
  },
  imagenet512: {
    modelType: 'unet',
    description: 'ImageNet 512x512 class-conditional ADM (512x512_diffusion.pt)',
    flags: { ...imagenetCommon, class_cond: true, image_size: 512, noise_schedule: 'linear', num_channels: 256, num_head_channels: 64, use_fp16: false },
  },
  lsun256: {
    modelType: 'unet',
    description: 'LSUN 256x256 unconditional ADM (lsun_bedroom.pt, lsun_cat.pt, lsun_horse.pt)',
    flags: { ...imagenetCommon, class_cond: false, dropout: 0.1, image_size: 256, noise_schedule: 'linear', num_channels: 256, num_head_channels: 64 },
  },
  'classifier64': {
    modelType: 'classifier',
    description: 'ImageNet 64x64 noisy classifier (64x64_classifier.pt; guidance scale 1.0 in the README)',
    flags: { ...classifierCommon, image_size: 64, classifier_depth: 4 },
  },
  'classifier128': {
    modelType: 'classifier',
    description: 'ImageNet 128x128 noisy classifier (128x128_classifier.pt; guidance scale 0.5)',
    flags: { ...classifierCommon, image_size: 128, classifier_depth: 2 },
  },
  'classifier256': {
    modelType: 'classifier',
    description: 'ImageNet 256x256 noisy classifier (256x256_classifier.pt; guidance scale 1.0)',
    flags: { ...classifierCommon, image_size: 256, classifier_depth: 2 },
  },
  'classifier512': {
    modelType: 'classifier',
    description: 'ImageNet 512x512 noisy classifier (512x512_classifier.pt; guidance scale 4.0)',
    flags: { ...classifierCommon, image_size: 512, classifier_depth: 2, classifier_use_fp16: false },
  },
  'upsample64-256': {
    modelType: 'superres',
    description: 'ImageNet 64->256 class-conditional upsampler (64_256_upsampler.pt)',
    flags: { ...imagenetCommon, class_cond: true, large_size: 256, small_size: 64, noise_schedule: 'linear', num_channels: 192, num_heads: 4 },
  },
  'upsample128-512': {
    modelType: 'superres',
    description: 'ImageNet 128->512 class-conditional upsampler (128_512_upsampler.pt)',
    flags: { ...imagenetCommon, attention_resolutions: '32,16', class_cond: true, large_size: 512, small_size: 128, noise_schedule: 'linear', num_channels: 192, num_head_channels: 64 },
  },
  mnist: {
    modelType: 'unet',
    description: 'small class-conditional ADM for 28x28 MNIST (64 channels, mult 1,2,2, attention at 14 and 7; ~8M parameters)',
    flags: {
      image_size: 28,
      in_channels: 1,
      num_channels: 64,
      num_res_blocks: 2,
      channel_mult: '1,2,2',
      attention_resolutions: '14,7',
      num_heads: 1,
      num_head_channels: 32,
      num_heads_upsample: -1,
      use_scale_shift_norm: true,
      resblock_updown: true,
      use_new_attention_order: false,
      learn_sigma: true,
      class_cond: true,
      num_classes: 10,
      dropout: 0.0,
      diffusion_steps: 1000,
      noise_schedule: 'cosine',
    },
  },
  'mnist-classifier': {
    modelType: 'classifier',
    description: 'small noisy classifier for 28x28 MNIST (width 32, mult 1,2,2, attention at 14 and 7, attention pool)',
    flags: {
      image_size: 28,
      in_channels: 1,
      classifier_width: 32,
      classifier_depth: 1,
      channel_mult: '1,2,2',
      classifier_attention_resolutions: '14,7',
      num_head_channels: 32,
      classifier_use_scale_shift_norm: true,
      classifier_resblock_updown: true,
      classifier_pool: 'attention',
      num_classes: 10,
      diffusion_steps: 1000,
      noise_schedule: 'cosine',
    },
  },
};

/** A preset by name; unknown names are a ConfigError listing the known ones. */
export function getPreset(name: string): ModelPreset {
  const p = Object.prototype.hasOwnProperty.call(PRESETS, name) ? PRESETS[name] : undefined;
  if (!p) throw new ConfigError('preset', `unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return { ...p, flags: { ...p.flags } };
}
