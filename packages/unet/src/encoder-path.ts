import * as tf from '@tensorflow/tfjs';
import type { ParameterScope } from './parameter-scope.js';
import { AttentionBlock } from './layers/attention-block.js';
import { Conv2d } from './layers/conv2d.js';
import { Downsample } from './layers/downsample.js';
import { EmbedSequential, type EmbedLayer } from './layers/embed-layer.js';
import { Linear } from './layers/linear.js';
import { ResBlock } from './layers/res-block.js';
import { silu } from './layers/silu.js';
import { timestepEmbedding } from './layers/timestep-embedding.js';
import type { ResolvedEncoderKwargs, ResolvedUNetKwargs } from './unet-kwargs.js';

/**
 * The part UNetModel and EncoderUNetModel share: time_embed, input_blocks and
 * middle_block, built in guided-diffusion's order so the state_dict names line up.
 */
export class EncoderPath {
  readonly timeEmbed0: Linear;
  readonly timeEmbed2: Linear;
  readonly inputBlocks: EmbedLayer[] = [];
  readonly middleBlock: EmbedSequential;
  /** Channels after each input block (the skips the decoder pops). */
  readonly inputBlockChans: number[] = [];
  /** Channels after the middle block. */
  readonly channels: number;
  /** Downsample factor reached at the bottom. */
  readonly ds: number;
  /** Sum of the channels of every input block and the middle block (pool "spatial"). */
  readonly featureSize: number;
  readonly embChannels: number;

  constructor(scope: ParameterScope, kw: ResolvedUNetKwargs | ResolvedEncoderKwargs) {
    const mc = kw.model_channels;
    const emb = (this.embChannels = 4 * mc);
    this.timeEmbed0 = new Linear(scope.child('time_embed.0'), mc, emb);
    this.timeEmbed2 = new Linear(scope.child('time_embed.2'), emb, emb);
    let ch = Math.trunc(kw.channel_mult[0] * mc);
    const blocks = scope.child('input_blocks');
    this.inputBlocks.push(new EmbedSequential([new Conv2d(blocks.child('0.0'), kw.in_channels, ch, 3)]));
    let feature = ch;
    this.inputBlockChans.push(ch);
    let ds = 1;
    const resOpts = { dropout: kw.dropout, useScaleShiftNorm: kw.use_scale_shift_norm };
    kw.channel_mult.forEach((mult, level) => {
      for (let i = 0; i < kw.num_res_blocks; i++) {
        const b = blocks.child(this.inputBlocks.length);
        const out = Math.trunc(mult * mc);
        const layers: EmbedLayer[] = [new ResBlock(b.child(0), ch, emb, out, resOpts)];
        ch = out;
        if (kw.attention_resolutions.includes(ds)) {
          layers.push(new AttentionBlock(b.child(1), ch, kw.num_heads, kw.num_head_channels, kw.use_new_attention_order));
        }
        this.inputBlocks.push(new EmbedSequential(layers));
        feature += ch;
        this.inputBlockChans.push(ch);
      }
      if (level !== kw.channel_mult.length - 1) {
        const b = blocks.child(this.inputBlocks.length).child(0);
        this.inputBlocks.push(
          new EmbedSequential([kw.resblock_updown ? new ResBlock(b, ch, emb, ch, { ...resOpts, down: true }) : new Downsample(b, ch, kw.conv_resample)]),
        );
        this.inputBlockChans.push(ch);
        ds *= 2;
        feature += ch;
      }
    });
    const mid = scope.child('middle_block');
    this.middleBlock = new EmbedSequential([
      new ResBlock(mid.child(0), ch, emb, ch, resOpts),
      new AttentionBlock(mid.child(1), ch, kw.num_heads, kw.num_head_channels, kw.use_new_attention_order),
      new ResBlock(mid.child(2), ch, emb, ch, resOpts),
    ]);
    feature += ch;
    this.channels = ch;
    this.ds = ds;
    this.featureSize = feature;
  }

  /** time_embed(timestep_embedding(t)) [N, 4 * model_channels]. */
  timeEmbedding(t: tf.Tensor1D, modelChannels: number): tf.Tensor2D {
    return this.timeEmbed2.apply(silu(this.timeEmbed0.apply(timestepEmbedding(t, modelChannels))));
  }
}
