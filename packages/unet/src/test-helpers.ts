import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { UNetKwargs } from './unet-kwargs.js';

/** The guided-diffusion fixture folder (../shared/fixtures beside the repository). */
export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/guided-diffusion/', import.meta.url));
export const hasFixtures = existsSync(`${FIXTURES}unet_forward_a/case.json`);

/** A tiny class-conditional UNet (8x8, widths 32/64) for fast tests. */
export const TINY_KWARGS: UNetKwargs = {
  image_size: 8,
  in_channels: 3,
  model_channels: 32,
  out_channels: 6,
  num_res_blocks: 1,
  attention_resolutions: [2],
  channel_mult: [1, 2],
  num_classes: 3,
  num_head_channels: 16,
  use_scale_shift_norm: true,
  resblock_updown: true,
};

/**
 * The bundled MNIST models' config.json (@adm/models-mnist's mnist-unet and mnist-classifier),
 * copied here so config tests do not depend on where those folders live.
 */
export const MNIST_UNET_CONFIG = {
  model_type: 'unet',
  image_size: 28,
  num_channels: 32,
  num_res_blocks: 1,
  num_heads: 1,
  num_heads_upsample: -1,
  num_head_channels: 32,
  attention_resolutions: '7',
  channel_mult: '1,2,2',
  dropout: 0,
  class_cond: true,
  use_checkpoint: false,
  use_scale_shift_norm: true,
  resblock_updown: true,
  use_fp16: false,
  use_new_attention_order: false,
  learn_sigma: true,
  num_classes: 10,
  in_channels: 1,
  diffusion_steps: 1000,
  noise_schedule: 'cosine',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
} as const;

export const MNIST_CLASSIFIER_CONFIG = {
  model_type: 'classifier',
  image_size: 28,
  classifier_use_fp16: false,
  classifier_width: 32,
  classifier_depth: 1,
  classifier_attention_resolutions: '14,7',
  classifier_use_scale_shift_norm: true,
  classifier_resblock_updown: true,
  classifier_pool: 'attention',
  num_classes: 10,
  in_channels: 1,
  num_head_channels: 32,
  channel_mult: '1,2,2',
  diffusion_steps: 1000,
  noise_schedule: 'cosine',
} as const;
