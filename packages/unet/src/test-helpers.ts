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
