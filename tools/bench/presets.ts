// Whole-network workloads: guided-diffusion flags (as /work/shared/reference/*.json, which
// the PyTorch side reads) turned into UNetModel keyword arguments the way
// script_util.create_model does.
import type { UNetKwargs } from '@adm/unet';

export interface ModelFlags {
  image_size: number;
  in_channels: number;
  num_channels: number;
  num_res_blocks: number;
  channel_mult: string;
  attention_resolutions: string;
  num_heads: number;
  num_head_channels: number;
  num_heads_upsample: number;
  use_scale_shift_norm: boolean;
  resblock_updown: boolean;
  use_new_attention_order: boolean;
  learn_sigma: boolean;
  class_cond: boolean;
  num_classes: number;
  dropout: number;
}

/** The MNIST preset (8.0M parameters; /work/shared/reference/mnist_small.json). */
export const MNIST_FLAGS: ModelFlags = {
  image_size: 28, in_channels: 1, num_channels: 64, num_res_blocks: 2, channel_mult: '1,2,2', attention_resolutions: '14,7',
  num_heads: 1, num_head_channels: 32, num_heads_upsample: -1, use_scale_shift_norm: true, resblock_updown: true,
  use_new_attention_order: false, learn_sigma: true, class_cond: true, num_classes: 10, dropout: 0,
};

/** The paper's ImageNet 64x64 conditional model (296M parameters; imagenet64_cond.json). */
export const IMAGENET64_FLAGS: ModelFlags = {
  image_size: 64, in_channels: 3, num_channels: 192, num_res_blocks: 3, channel_mult: '1,2,3,4', attention_resolutions: '32,16,8',
  num_heads: 4, num_head_channels: 64, num_heads_upsample: -1, use_scale_shift_norm: true, resblock_updown: true,
  use_new_attention_order: true, learn_sigma: true, class_cond: true, num_classes: 1000, dropout: 0.1,
};

export function unetKwargs(f: ModelFlags): UNetKwargs {
  return {
    image_size: f.image_size,
    in_channels: f.in_channels,
    model_channels: f.num_channels,
    out_channels: f.learn_sigma ? 2 * f.in_channels : f.in_channels,
    num_res_blocks: f.num_res_blocks,
    attention_resolutions: f.attention_resolutions.split(',').map((r) => f.image_size / Number(r)),
    dropout: f.dropout,
    channel_mult: f.channel_mult.split(',').map(Number),
    num_classes: f.class_cond ? f.num_classes : null,
    num_heads: f.num_heads,
    num_head_channels: f.num_head_channels,
    num_heads_upsample: f.num_heads_upsample,
    use_scale_shift_norm: f.use_scale_shift_norm,
    resblock_updown: f.resblock_updown,
    use_new_attention_order: f.use_new_attention_order,
  };
}
