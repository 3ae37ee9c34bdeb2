// The parameters (state_dict names, PyTorch shapes) and activation sizes a network's kwargs
// imply, computed without allocating anything: the constructors' walk (EncoderPath,
// UNetModel, EncoderUNetModel) replayed on numbers, so absurd configs are refused and a
// weights file is checked against the architecture before any layer exists.
import { ConfigError } from '@adm/core';
import { flagField } from './model-flags.js';
import type { ResolvedEncoderKwargs, ResolvedUNetKwargs } from './unet-kwargs.js';

/** What a model may need: per tensor (typed-array lengths), in all, per image activation. */
export const MODEL_LIMITS = {
  /** Elements of one parameter tensor (a float32 typed array must stay below 2^31 elements). */
  tensorElements: 2 ** 31 - 1,
  /** All parameters together: 2^30 (4 GiB float32), about twice the largest released ADM (~560M). */
  parameters: 2 ** 30,
  /** One image's largest activation or attention matrix (2^28 float32 = 1 GiB). */
  activationElements: 2 ** 28,
} as const;

/** The flags that set each kwarg, so errors name what a config.json says. */
export interface PlanNames {
  image_size: string;
  model_channels: string;
  num_res_blocks: string;
  attention_resolutions: string;
  num_classes: string;
}

export const KWARG_NAMES: PlanNames = {
  image_size: 'image_size',
  model_channels: 'model_channels',
  num_res_blocks: 'num_res_blocks',
  attention_resolutions: 'attention_resolutions',
  num_classes: 'num_classes',
};

export interface ParameterPlan {
  /** state_dict name -> PyTorch shape, in the order the network creates them. */
  shapes: Map<string, number[]>;
  /** Number of parameters (elements) in all. */
  total: number;
  /** Largest activation (elements) and attention matrix (heads x tokens x tokens) of one image. */
  maxActivation: number;
  maxAttention: number;
}

const GROUPS = 32;

function formatCount(n: number): string {
  return n < 1e6 ? String(n) : n.toExponential(2);
}

/** Shared bookkeeping of one walk: names, sizes, and errors that name the file and flag. */
class Planner {
  readonly shapes = new Map<string, number[]>();
  total = 0;
  maxActivation = 0;
  maxAttention = 0;

  constructor(
    readonly where: string,
    readonly names: PlanNames,
    readonly imageSize: number,
  ) {}

  fail(flag: string, detail: string): never {
    throw new ConfigError(flagField(this.where, flag), detail);
  }

  add(name: string, shape: number[], blame: string): void {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > MODEL_LIMITS.tensorElements) {
      this.fail(blame, `parameter ${name} would be [${shape.join(', ')}] = ${formatCount(n)} elements, more than a tensor can hold (2^31 - 1)`);
    }
    this.shapes.set(name, shape);
    this.total += n;
  }

  linear(name: string, inF: number, outF: number, blame = this.names.model_channels): void {
    this.add(`${name}.weight`, [outF, inF], blame);
    this.add(`${name}.bias`, [outF], blame);
  }

  conv1d(name: string, inC: number, outC: number): void {
    this.add(`${name}.weight`, [outC, inC, 1], this.names.model_channels);
    this.add(`${name}.bias`, [outC], this.names.model_channels);
  }

  conv2d(name: string, inC: number, outC: number, k: number): void {
    this.add(`${name}.weight`, [outC, inC, k, k], this.names.model_channels);
    this.add(`${name}.bias`, [outC], this.names.model_channels);
  }

  groupNorm(name: string, ch: number): void {
    this.add(`${name}.weight`, [ch], this.names.model_channels);
    this.add(`${name}.bias`, [ch], this.names.model_channels);
  }

  resBlock(prefix: string, ch: number, emb: number, out: number, scaleShift: boolean): void {
    this.groupNorm(`${prefix}.in_layers.0`, ch);
    this.conv2d(`${prefix}.in_layers.2`, ch, out, 3);
    this.linear(`${prefix}.emb_layers.1`, emb, scaleShift ? 2 * out : out);
    this.groupNorm(`${prefix}.out_layers.0`, out);
    this.conv2d(`${prefix}.out_layers.3`, out, out, 3);
    if (out !== ch) this.conv2d(`${prefix}.skip_connection`, ch, out, 1);
  }

  /** An AttentionBlock at downsample rate ds; heads as qkv-attention.ts's attentionHeads. */
  attention(prefix: string, ch: number, ds: number, numHeads: number, numHeadChannels: number, headsFlag: string): void {
    if (numHeadChannels === -1 ? numHeads < 1 || ch % numHeads !== 0 : ch % numHeadChannels !== 0) {
      this.fail(
        numHeadChannels === -1 ? headsFlag : 'num_head_channels',
        `the attention at ${prefix} has ${ch} channels, not divisible by ${numHeadChannels === -1 ? `${headsFlag} ${numHeads}` : `num_head_channels ${numHeadChannels}`}`,
      );
    }
    const heads = numHeadChannels === -1 ? numHeads : ch / numHeadChannels;
    this.attentionSize(ds, heads);
    this.groupNorm(`${prefix}.norm`, ch);
    this.conv1d(`${prefix}.qkv`, ch, 3 * ch);
    this.conv1d(`${prefix}.proj_out`, ch, ch);
  }

  attentionSize(ds: number, heads: number, extraToken = 0): void {
    const side = this.imageSize / ds;
    const tokens = side * side + extraToken;
    const n = heads * tokens * tokens;
    if (n > MODEL_LIMITS.activationElements) {
      this.fail(this.names.attention_resolutions, `attention at ${side}x${side} (${tokens} tokens, ${heads} heads) needs ${formatCount(n)} weights per image, more than 2^28`);
    }
    this.maxAttention = Math.max(this.maxAttention, n);
  }

  activation(ds: number, ch: number): void {
    const side = this.imageSize / ds;
    const n = side * side * ch;
    if (n > MODEL_LIMITS.activationElements) {
      this.fail(this.names.image_size, `at ${side}x${side} with ${ch} channels one image's activation has ${formatCount(n)} elements, more than 2^28`);
    }
    this.maxActivation = Math.max(this.maxActivation, n);
  }

  finish(): ParameterPlan {
    if (this.total > MODEL_LIMITS.parameters) {
      this.fail(
        this.names.model_channels,
        `the architecture has ${formatCount(this.total)} parameters (${(this.total / 2 ** 28).toFixed(1)} GiB float32), more than the ${formatCount(MODEL_LIMITS.parameters)} a model may have (check ${this.names.model_channels}, channel_mult, ${this.names.num_res_blocks})`,
      );
    }
    return { shapes: this.shapes, total: this.total, maxActivation: this.maxActivation, maxAttention: this.maxAttention };
  }
}

/** Channels of each level; every one a positive multiple of 32 (GroupNorm32) and the image halvable per level. */
function levelChannels(p: Planner, kw: ResolvedUNetKwargs | ResolvedEncoderKwargs): number[] {
  const mc = kw.model_channels;
  const chans = kw.channel_mult.map((mult, level) => {
    const c = Math.trunc(mult * mc);
    if (c < GROUPS || c % GROUPS !== 0) {
      p.fail('channel_mult', `level ${level} has int(${mult} x ${mc}) = ${c} channels (${p.names.model_channels} ${mc}); GroupNorm32 needs a positive multiple of 32`);
    }
    return c;
  });
  const halvings = kw.channel_mult.length - 1;
  if (kw.image_size % 2 ** halvings !== 0) {
    p.fail(p.names.image_size, `${kw.image_size} cannot be halved ${halvings} times (channel_mult has ${kw.channel_mult.length} levels): use a multiple of ${2 ** halvings}`);
  }
  return chans;
}

/** time_embed, input_blocks and middle_block (EncoderPath's walk). */
function planEncoderPath(p: Planner, kw: ResolvedUNetKwargs | ResolvedEncoderKwargs): { chans: number[]; ch: number; ds: number; feature: number; emb: number } {
  const mc = kw.model_channels;
  const levels = levelChannels(p, kw);
  const emb = 4 * mc;
  p.linear('time_embed.0', mc, emb);
  p.linear('time_embed.2', emb, emb);
  let ch = levels[0]!;
  p.conv2d('input_blocks.0.0', kw.in_channels, ch, 3);
  p.activation(1, Math.max(ch, kw.in_channels));
  const chans = [ch];
  let feature = ch;
  let ds = 1;
  const ss = kw.use_scale_shift_norm;
  levels.forEach((out, level) => {
    for (let i = 0; i < kw.num_res_blocks; i++) {
      const b = `input_blocks.${chans.length}`;
      p.resBlock(`${b}.0`, ch, emb, out, ss);
      p.activation(ds, Math.max(ch, out));
      ch = out;
      if (kw.attention_resolutions.includes(ds)) p.attention(`${b}.1`, ch, ds, kw.num_heads, kw.num_head_channels, 'num_heads');
      chans.push(ch);
      feature += ch;
    }
    if (level !== levels.length - 1) {
      const b = `input_blocks.${chans.length}.0`;
      if (kw.resblock_updown) p.resBlock(b, ch, emb, ch, ss);
      else if (kw.conv_resample) p.conv2d(`${b}.op`, ch, ch, 3);
      chans.push(ch);
      ds *= 2;
      feature += ch;
    }
  });
  p.resBlock('middle_block.0', ch, emb, ch, ss);
  p.attention('middle_block.1', ch, ds, kw.num_heads, kw.num_head_channels, 'num_heads');
  p.resBlock('middle_block.2', ch, emb, ch, ss);
  feature += ch;
  return { chans, ch, ds, feature, emb };
}

/** UNetModel's (and SuperResModel's trunk's) parameters; kwargs already resolved. */
export function planUNet(kw: ResolvedUNetKwargs, where: string, names: PlanNames = KWARG_NAMES): ParameterPlan {
  const p = new Planner(where, names, kw.image_size);
  const { chans, ch: bottom, ds: dsBottom, emb } = planEncoderPath(p, kw);
  if (kw.num_classes !== null) p.add('label_emb.weight', [kw.num_classes, emb], names.num_classes);
  let ch = bottom;
  let ds = dsBottom;
  const mc = kw.model_channels;
  let n = 0;
  for (let level = kw.channel_mult.length - 1; level >= 0; level--) {
    const out = Math.trunc(mc * kw.channel_mult[level]!);
    for (let i = 0; i < kw.num_res_blocks + 1; i++) {
      const b = `output_blocks.${n++}`;
      const ich = chans.pop()!;
      p.resBlock(`${b}.0`, ch + ich, emb, out, kw.use_scale_shift_norm);
      p.activation(ds, ch + ich);
      ch = out;
      let layers = 1;
      if (kw.attention_resolutions.includes(ds)) p.attention(`${b}.${layers++}`, ch, ds, kw.num_heads_upsample, kw.num_head_channels, 'num_heads_upsample');
      if (level && i === kw.num_res_blocks) {
        if (kw.resblock_updown) p.resBlock(`${b}.${layers}`, ch, emb, ch, kw.use_scale_shift_norm);
        else if (kw.conv_resample) p.conv2d(`${b}.${layers}.conv`, ch, ch, 3);
        ds /= 2;
      }
    }
  }
  p.groupNorm('out.0', ch);
  p.conv2d('out.2', Math.trunc(kw.channel_mult[0]! * mc), kw.out_channels, 3);
  return p.finish();
}

/** EncoderUNetModel's (the noisy classifier's) parameters; kwargs already resolved. */
export function planEncoder(kw: ResolvedEncoderKwargs, where: string, names: PlanNames = KWARG_NAMES): ParameterPlan {
  const p = new Planner(where, names, kw.image_size);
  const { ch, ds, feature } = planEncoderPath(p, kw);
  switch (kw.pool) {
    case 'adaptive':
      p.groupNorm('out.0', ch);
      p.conv2d('out.3', ch, kw.out_channels, 1);
      break;
    case 'attention': {
      // AttentionPool2d: heads = ch // num_head_channels over spatial^2 + 1 tokens.
      if (kw.num_head_channels < 1 || ch % kw.num_head_channels !== 0) {
        p.fail('num_head_channels', `the attention pool has ${ch} channels, not divisible by num_head_channels ${kw.num_head_channels}`);
      }
      const spatial = Math.floor(kw.image_size / ds);
      p.attentionSize(ds, ch / kw.num_head_channels, 1);
      p.groupNorm('out.0', ch);
      p.add('out.2.positional_embedding', [ch, spatial * spatial + 1], names.image_size);
      p.conv1d('out.2.qkv_proj', ch, 3 * ch);
      p.add('out.2.c_proj.weight', [kw.out_channels, ch, 1], names.num_classes);
      p.add('out.2.c_proj.bias', [kw.out_channels], names.num_classes);
      break;
    }
    case 'spatial':
      p.linear('out.0', feature, 2048);
      p.linear('out.2', 2048, kw.out_channels, names.num_classes);
      break;
    case 'spatial_v2':
      p.linear('out.0', feature, 2048);
      p.groupNorm('out.1', 2048);
      p.linear('out.3', 2048, kw.out_channels, names.num_classes);
      break;
  }
  return p.finish();
}
