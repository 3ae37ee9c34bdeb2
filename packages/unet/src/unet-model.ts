import * as tf from '@tensorflow/tfjs';
import { ShapeError, type Conditioning, type Denoiser, type HasParameters, type NetworkInfo } from '@adm/core';
import { EncoderPath } from './encoder-path.js';
import { AttentionBlock } from './layers/attention-block.js';
import { Conv2d } from './layers/conv2d.js';
import { EmbedSequential, type EmbedLayer } from './layers/embed-layer.js';
import { GroupNorm } from './layers/group-norm.js';
import { ResBlock } from './layers/res-block.js';
import { silu } from './layers/silu.js';
import { Upsample } from './layers/upsample.js';
import { checkpointed } from './layers/checkpointing.js';
import { ParameterScope, type InitOptions, type ParameterEntry } from './parameter-scope.js';
import { resolveUNetKwargs, type ResolvedUNetKwargs, type UNetKwargs } from './unet-kwargs.js';

/** Checks the NHWC batch and the timesteps a network is called with. */
export function checkInputs(where: string, x: tf.Tensor, t: tf.Tensor, channels: number): void {
  if (x.rank !== 4) throw new ShapeError(`${where}: x must be an NHWC batch [N, H, W, C], got shape [${x.shape.join(', ')}]`);
  if (x.shape[3] !== channels) throw new ShapeError(`${where}: x has ${x.shape[3]} channels (NHWC), the model expects ${channels}`);
  if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
    throw new ShapeError(`${where}: t must be a vector of ${x.shape[0]} timesteps (one per batch element), got shape [${t.shape.join(', ')}]`);
  }
}

/**
 * The ADM denoiser (guided-diffusion's UNetModel, Section 3 of the paper) on TensorFlow.js,
 * NHWC inside, parameters under guided-diffusion's state_dict names.
 * apply(x [N,H,W,C], t [N] original step indices, {y}) -> [N,H,W,out_channels].
 */
export class UNetModel implements Denoiser, HasParameters {
  readonly kwargs: ResolvedUNetKwargs;
  readonly info: NetworkInfo;
  /** Dropout is active (and use_checkpoint recomputes activations) only while training, as in PyTorch's train()/eval(). */
  training = false;
  private dropoutSeeds = 1;
  private readonly variablesByBlock = new Map<string, tf.Variable[]>();
  protected readonly registry: Map<string, ParameterEntry>;
  protected readonly encoder: EncoderPath;
  readonly labelEmb?: tf.Variable;
  readonly outputBlocks: EmbedLayer[] = [];
  readonly outNorm: GroupNorm;
  readonly outConv: Conv2d;

  constructor(kwargs: UNetKwargs, options: InitOptions = {}) {
    const kw = (this.kwargs = resolveUNetKwargs(kwargs, new.target.name));
    const scope = ParameterScope.root(options);
    this.registry = scope.registry;
    const mc = kw.model_channels;
    this.encoder = new EncoderPath(scope, kw);
    const emb = this.encoder.embChannels;
    // label_emb is created after time_embed in PyTorch; order only matters for listing.
    if (kw.num_classes !== null) this.labelEmb = scope.add('label_emb.weight', 'same', [kw.num_classes, emb], ParameterScope.normal(1));
    const chans = [...this.encoder.inputBlockChans];
    let ch = this.encoder.channels;
    let ds = this.encoder.ds;
    const resOpts = { dropout: kw.dropout, useScaleShiftNorm: kw.use_scale_shift_norm };
    const blocks = scope.child('output_blocks');
    for (let level = kw.channel_mult.length - 1; level >= 0; level--) {
      const mult = kw.channel_mult[level];
      for (let i = 0; i < kw.num_res_blocks + 1; i++) {
        const b = blocks.child(this.outputBlocks.length);
        const ich = chans.pop()!;
        const out = Math.trunc(mc * mult);
        const layers: EmbedLayer[] = [new ResBlock(b.child(0), ch + ich, emb, out, resOpts)];
        ch = out;
        if (kw.attention_resolutions.includes(ds)) {
          layers.push(new AttentionBlock(b.child(layers.length), ch, kw.num_heads_upsample, kw.num_head_channels, kw.use_new_attention_order));
        }
        if (level && i === kw.num_res_blocks) {
          const u = b.child(layers.length);
          layers.push(kw.resblock_updown ? new ResBlock(u, ch, emb, ch, { ...resOpts, up: true }) : new Upsample(u, ch, kw.conv_resample));
          ds = Math.trunc(ds / 2);
        }
        this.outputBlocks.push(new EmbedSequential(layers));
      }
    }
    this.outNorm = new GroupNorm(scope.child('out.0'), ch);
    this.outConv = new Conv2d(scope.child('out.2'), Math.trunc(kw.channel_mult[0] * mc), kw.out_channels, 3, { zero: true });
    this.info = {
      imageSize: kw.image_size,
      inChannels: kw.in_channels,
      outChannels: kw.out_channels,
      learnSigma: kw.out_channels === 2 * kw.in_channels,
      ...(kw.num_classes !== null ? { numClasses: kw.num_classes } : {}),
    };
  }

  /** Channels of x the UNet trunk takes (SuperResModel adds the upsampled image). */
  protected get trunkChannels(): number {
    return this.kwargs.in_channels;
  }

  parameters(): Map<string, tf.Variable> {
    return new Map([...this.registry].map(([k, e]) => [k, e.variable]));
  }

  /** Parameters with their PyTorch layout (for state_dict conversion). */
  parameterEntries(): Map<string, ParameterEntry> {
    return this.registry;
  }

  apply(x: tf.Tensor4D, t: tf.Tensor1D, cond: Conditioning = {}): tf.Tensor4D {
    return tf.tidy(() => this.forward(this.prepareInput(x, t, cond), t, cond));
  }

  protected prepareInput(x: tf.Tensor4D, t: tf.Tensor1D, _cond: Conditioning): tf.Tensor4D {
    checkInputs(this.constructor.name, x, t, this.trunkChannels);
    return x;
  }

  protected forward(x: tf.Tensor4D, t: tf.Tensor1D, cond: Conditioning): tf.Tensor4D {
    const name = this.constructor.name;
    if ((cond.y !== undefined) !== (this.labelEmb !== undefined)) {
      throw new ShapeError(
        this.labelEmb ? `${name}: class-conditional model (num_classes=${this.kwargs.num_classes}) needs labels cond.y` : `${name}: unconditional model was given labels cond.y`,
      );
    }
    let emb = this.encoder.timeEmbedding(t, this.kwargs.model_channels);
    if (this.labelEmb && cond.y) {
      const y = cond.y;
      if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new ShapeError(`${name}: cond.y must hold ${x.shape[0]} labels, got shape [${y.shape.join(', ')}]`);
      // one-hot matmul instead of gather: exact, and its gradient needs no UnsortedSegmentSum (missing on wasm).
      const oneHot = tf.cast(tf.oneHot(tf.cast(y, 'int32'), this.kwargs.num_classes!), 'float32');
      emb = tf.add(emb, tf.matMul(oneHot, this.labelEmb as tf.Tensor2D));
    }
    const embAct = silu(emb);
    const seed = this.dropoutSeeds++ * 1000;
    let k = 0;
    const ctx = { training: this.training, dropoutSeed: () => seed + k++ };
    // use_checkpoint only matters when gradients are taken; it recomputes each block's activations in the backward pass.
    const checkpoint = this.kwargs.use_checkpoint && this.training;
    const run = (block: EmbedLayer, prefix: string, h: tf.Tensor4D) =>
      checkpoint
        ? checkpointed(block, this.blockVariables(prefix), h, embAct, this.training, seed + 100 * k++)
        : // a tidy per block frees its intermediates at once (the outer tidy would hold them all to the end)
          tf.tidy(() => block.apply(h, embAct, ctx));
    const hs: tf.Tensor4D[] = [];
    let h = x;
    this.encoder.inputBlocks.forEach((block, i) => {
      h = run(block, `input_blocks.${i}.`, h);
      hs.push(h);
    });
    h = run(this.encoder.middleBlock, 'middle_block.', h);
    this.outputBlocks.forEach((block, i) => {
      h = run(block, `output_blocks.${i}.`, tf.concat([h, hs.pop()!], 3));
    });
    return this.outConv.apply(this.outNorm.apply(h, true));
  }

  /** The variables of one block (by state_dict prefix), for gradient checkpointing. */
  private blockVariables(prefix: string): tf.Variable[] {
    let vs = this.variablesByBlock.get(prefix);
    if (!vs) {
      vs = [...this.registry].filter(([k]) => k.startsWith(prefix)).map(([, e]) => e.variable);
      this.variablesByBlock.set(prefix, vs);
    }
    return vs;
  }

  dispose(): void {
    for (const e of this.registry.values()) e.variable.dispose();
  }
}
