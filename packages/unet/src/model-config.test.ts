import * as tf from '@tensorflow/tfjs';
import { ConfigError, TensorFileError, serializeSafetensors, useBackend, type HostTensor } from '@adm/core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModelConfig, createFromCheckedConfig, createModelKwargs, type ModelType } from './create-model.js';
import { loadModel } from './model-loader.js';
import { loadModelFolder, parseModelConfig } from './model-folder.js';
import { MODEL_LIMITS } from './parameter-plan.js';
import { PRESETS } from './presets.js';
import { stateDict } from './state-dict.js';
import { MNIST_CLASSIFIER_CONFIG, MNIST_UNET_CONFIG } from './test-helpers.js';

// Regression tests for the config fuzzing campaign (issue 15): each defect class with the
// smallest config that showed it. Every refusal is a ConfigError naming the file and flag,
// raised before anything is allocated (tf.memory().numTensors does not move).
const FILE = 'models/x/config.json';

/** The error `fn` throws, checked to be a ConfigError naming FILE, with nothing allocated. */
function refusal(fn: () => unknown): ConfigError {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message.startsWith(`${FILE}: `)).toBe(true);
  // Bounded: a description, never a dump of the value.
  expect((error as Error).message.length).toBeLessThan(400);
  return error as ConfigError;
}

const unet = (flags: Record<string, unknown>) => refusal(() => checkModelConfig({ ...MNIST_UNET_CONFIG, ...flags }, FILE));
const classifier = (flags: Record<string, unknown>) => refusal(() => checkModelConfig({ ...MNIST_CLASSIFIER_CONFIG, ...flags }, FILE));

/** `depth` nested arrays around 1, as JSON text (JSON.parse reads it without recursion). */
const nestedJson = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

beforeAll(async () => {
  await useBackend('cpu');
});

describe('absurd sizes are refused before any layer allocates', () => {
  it('out-of-range flags (the campaign\'s "Invalid typed array length: 9216000000000000" came from num_channels 32000000)', () => {
    expect(unet({ num_channels: 32_000_000 }).message).toBe(`${FILE}: num_channels: expected an integer in [1, 8192], got 32000000`);
    expect(unet({ channel_mult: '1,1000000' }).message).toBe(`${FILE}: channel_mult: expected positive numbers up to 64, got "1,1000000"`);
    expect(unet({ image_size: 1e9 }).message).toBe(`${FILE}: image_size: expected an integer in [1, 4096], got 1000000000`);
    expect(unet({ num_classes: 1e12 }).message).toMatch(/num_classes: expected an integer in \[1, 1000000\], got 1000000000000$/);
    expect(unet({ num_res_blocks: 1000 }).message).toMatch(/num_res_blocks: expected an integer in \[1, 64\]/);
    expect(classifier({ classifier_width: 1e9 }).message).toMatch(/classifier_width: expected an integer in \[1, 8192\], got 1000000000$/);
    expect(classifier({ classifier_depth: -1 }).message).toMatch(/classifier_depth: expected an integer in \[1, 64\], got -1$/);
    expect(unet({ attention_resolutions: '7,100000' }).message).toMatch(/attention_resolutions: expected positive integers up to 4096/);
    expect(unet({ num_head_channels: 'x'.repeat(100_000) }).message).toMatch(/num_head_channels: expected .*, got "x{40}"\.\.\. \(100000 characters\)$/);
    expect(unet({ num_heads: 1e6, num_head_channels: -1 }).message).toMatch(/num_heads: expected an integer in \[1, 4096\] or -1, got 1000000$/);
  });

  it('in-range flags whose architecture would not fit: per tensor, in all, per image', () => {
    // one 3x3 conv of 64 x 8192 channels each way: 2.5e12 elements
    expect(unet({ image_size: 8, num_channels: 8192, channel_mult: '64' }).message).toMatch(
      /num_channels: parameter input_blocks\.1\.0\.in_layers\.2\.weight would be \[524288, 524288, 3, 3\] = 2\.47e\+12 elements, more than a tensor can hold/,
    );
    expect(unet({ image_size: 8, channel_mult: '1', num_channels: 8192, num_classes: 1_000_000, attention_resolutions: '' }).message).toMatch(/num_classes: parameter label_emb\.weight would be \[1000000, 32768\]/);
    expect(unet({ image_size: 64, channel_mult: '', num_channels: 2048, num_res_blocks: 3 }).message).toMatch(/num_channels: the architecture has .* parameters .* more than the 1\.07e\+9 a model may have/);
    expect(unet({ image_size: 4096, channel_mult: '1', num_channels: 64, attention_resolutions: '' }).message).toMatch(
      /image_size: at 4096x4096 with 64 channels one image's activation has 1\.07e\+9 elements, more than 2\^28/,
    );
    expect(unet({ image_size: 256, channel_mult: '1', num_channels: 64, attention_resolutions: '256', num_heads: 1, num_head_channels: -1 }).message).toMatch(
      /attention_resolutions: attention at 256x256 \(65536 tokens, 1 heads\) needs 4\.29e\+9 weights per image/,
    );
    expect(classifier({ image_size: 4096, channel_mult: '1,1', classifier_attention_resolutions: '' }).message).toMatch(/image_size: at 4096x4096 with 32 channels/);
  });

  it('architectures the layers cannot build: GroupNorm32 widths, heads, halvings, pools', () => {
    expect(unet({ num_channels: 40 }).message).toMatch(/channel_mult: level 0 has int\(1 x 40\) = 40 channels \(num_channels 40\); GroupNorm32 needs a positive multiple of 32/);
    expect(unet({ channel_mult: '0.5,1' }).message).toMatch(/level 0 has int\(0\.5 x 32\) = 16 channels/);
    expect(classifier({ classifier_width: 48 }).message).toMatch(/channel_mult: level 0 has .* \(classifier_width 48\)/);
    expect(unet({ num_head_channels: 48 }).message).toMatch(/num_head_channels: the attention at input_blocks\.5\.1 has 64 channels, not divisible by num_head_channels 48/);
    expect(unet({ num_head_channels: -1, num_heads: 3 }).message).toMatch(/num_heads: the attention at .* not divisible by num_heads 3/);
    expect(unet({ num_head_channels: -1, num_heads: 1, num_heads_upsample: 5 }).message).toMatch(/num_heads_upsample: the attention at output_blocks\.\d+\.1 has/);
    expect(unet({ image_size: 30 }).message).toMatch(/image_size: 30 cannot be halved 2 times \(channel_mult has 3 levels\): use a multiple of 4/);
    expect(unet({ image_size: 28, attention_resolutions: '56' }).message).toMatch(/attention_resolutions: resolution 56 is not an integer in \[1, 28\]/);
    expect(classifier({ num_head_channels: -1 }).message).toMatch(/num_head_channels: pool "attention" needs num_head_channels/);
    expect(classifier({ num_head_channels: 48 }).message).toMatch(/num_head_channels: .* not divisible by num_head_channels 48/);
    expect(classifier({ classifier_pool: 'max' }).message).toMatch(/classifier_pool: expected one of "adaptive", "attention", "spatial", "spatial_v2", got "max"/);
  });
});

describe('wrongly typed values name the file and flag and say what was expected', () => {
  it.each([
    ['channel_mult', 'a,b', /expected positive numbers up to 64, got "a,b"/],
    ['channel_mult', { '1': 2 }, /expected comma-separated numbers .* got an object with 1 keys/],
    ['channel_mult', [1, [2]], /expected positive numbers up to 64, got an array of 2 items \(nested\)/],
    ['channel_mult', [1, -2], /got \[1, -2\]/],
    ['attention_resolutions', '3.5', /expected positive integers up to 4096, got "3\.5"/],
    ['num_channels', '32px', /num_channels: expected an integer in \[1, 8192\], got "32px"/],
    ['num_channels', 32.5, /got 32\.5/],
    ['image_size', true, /image_size: expected an integer in \[1, 4096\], got true/],
    ['num_classes', null, /num_classes: expected an integer .*, got null/],
    ['num_res_blocks', [2], /num_res_blocks: expected an integer .*, got \[2\]/],
    ['learn_sigma', 'maybe', /learn_sigma: expected a boolean \(true\/false\), got "maybe"/],
    ['class_cond', 2, /class_cond: expected a boolean/],
    ['dropout', 1, /dropout: expected a number in \[0, 1\), got 1/],
    ['dropout', Number.NaN, /dropout: expected a number in \[0, 1\), got NaN/],
    ['diffusion_steps', 0, /diffusion_steps: expected an integer in \[1, 100000\], got 0/],
    ['diffusion_steps', 1e300, /got 1e\+300/],
    ['noise_schedule', 5, /noise_schedule: expected a name such as "linear" or "cosine".*, got 5/],
    ['noise_schedule', 'cos ine; rm', /noise_schedule: expected a name such as "linear" or "cosine".*, got "cos ine; rm"/],
    ['noise_schedule', 'x'.repeat(65), /noise_schedule: expected a name such as "linear" or "cosine"/],
    ['timestep_respacing', 25, /timestep_respacing: expected "", "ddimN" or step counts/],
    ['timestep_respacing', 'ddim999', /timestep_respacing: "ddim999": no integer stride takes exactly 999 of the 1000 diffusion steps/],
    ['timestep_respacing', '10,600', /timestep_respacing: "10,600": section 1 of the 1000 diffusion steps has 500 steps, cannot take 600/],
    ['model_type', 'transformer', /model_type: expected "unet", "superres" or "classifier", got "transformer"/],
    ['some_other_flag', { nested: { deeper: 1 } }, /some_other_flag: unknown flag holding an object with 1 keys; a config holds flat flags/],
  ])('%s = %o', (flag, value, message) => {
    expect(unet({ [flag]: value }).message).toMatch(message);
  });

  it('accepts guided-diffusion\'s argparse spellings and hands back canonical types', () => {
    const { flags, kwargs } = checkModelConfig({ ...MNIST_UNET_CONFIG, learn_sigma: 'True', class_cond: 1, num_channels: '32', dropout: '0.1', diffusion_steps: '4000', notes: 'trained on a laptop' }, FILE);
    expect(flags).toMatchObject({ learn_sigma: true, class_cond: true, num_channels: 32, dropout: 0.1, diffusion_steps: 4000, channel_mult: '1,2,2', notes: 'trained on a laptop' });
    expect(kwargs).toMatchObject({ model_channels: 32, out_channels: 2, dropout: 0.1, channel_mult: [1, 2, 2], attention_resolutions: [4] });
  });
});

describe('hostile JSON in config.json', () => {
  it('10,000 nested arrays anywhere in the config are a bounded error, not a stack overflow', () => {
    const deep = nestedJson(10_000);
    for (const text of [`{"channel_mult": ${deep}}`, `{"image_size": 28, "extra": ${deep}}`, `{"model_type": ${deep}}`, deep]) {
      const e = refusal(() => parseModelConfig(text, FILE));
      expect(e.message).toMatch(/an array of 1 items \(nested\)/);
    }
    // The same value reaching the flag readers directly (code, not a file).
    const value = JSON.parse(deep);
    expect(() => createModelKwargs({ channel_mult: value })).toThrow(/create_model\.channel_mult: expected .* got an array of 1 items \(nested\)/);
  });

  it('__proto__ is refused; other prototype-ish names are ordinary unknown flags and pollute nothing', () => {
    expect(refusal(() => parseModelConfig('{"__proto__": {"image_size": 1000000000}, "image_size": 28}', FILE)).message).toBe(`${FILE}: __proto__: is not a flag name`);
    const { flags } = parseModelConfig(JSON.stringify({ ...MNIST_UNET_CONFIG, constructor: 1, toString: 'x', prototype: null, hasOwnProperty: [1, 2] }), FILE);
    expect(Object.getPrototypeOf(flags)).toBe(Object.prototype);
    expect(flags.constructor).toBe(1);
    expect(({} as Record<string, unknown>).image_size).toBeUndefined();
    expect(refusal(() => parseModelConfig('{"constructor": {"prototype": {"polluted": 1}}}', FILE)).message).toMatch(/constructor: unknown flag holding an object with 1 keys/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('not an object, not JSON, or larger than 1 MiB', () => {
    expect(refusal(() => parseModelConfig('[1, 2]', FILE)).message).toBe(`${FILE}: expected a JSON object of flags, got [1, 2]`);
    expect(refusal(() => parseModelConfig('"unet"', FILE)).message).toBe(`${FILE}: expected a JSON object of flags, got "unet"`);
    expect(refusal(() => parseModelConfig('{"image_size": 28,', FILE)).message).toMatch(/^models\/x\/config\.json: not valid JSON/);
    expect(refusal(() => parseModelConfig(`{"pad": "${' '.repeat(1 << 20)}"}`, FILE)).message).toBe(`${FILE}: 1048587 characters; a model config is at most 1048576 bytes`);
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`flag${i}`, i]));
    expect(refusal(() => checkModelConfig(many, FILE)).message).toBe(`${FILE}: expected at most 1024 flags, got 2000`);
  });

  it('a config for another kind of model says so', () => {
    expect(refusal(() => checkModelConfig(MNIST_CLASSIFIER_CONFIG, FILE, ['unet', 'superres'])).message).toBe(`${FILE}: model_type: holds a classifier model, expected unet or superres`);
    // guided-diffusion's own configs have no model_type: a classifier's flags are not a UNet's.
    const { model_type: _, ...anonymous } = MNIST_CLASSIFIER_CONFIG;
    expect(refusal(() => checkModelConfig(anonymous, FILE)).message).toMatch(
      /model_type: missing, and the flags are a classifier's \(classifier_width, classifier_depth, classifier_attention_resolutions, classifier_pool\): add "model_type": "classifier"/,
    );
  });
});

describe('the plan is the state_dict the network creates', () => {
  const cases: [string, ModelType, Record<string, unknown>][] = [
    ['bundled MNIST denoiser', 'unet', MNIST_UNET_CONFIG],
    ['bundled MNIST classifier', 'classifier', MNIST_CLASSIFIER_CONFIG],
    ['upsampling convs, legacy heads, no scale-shift', 'unet', { ...MNIST_UNET_CONFIG, resblock_updown: false, use_scale_shift_norm: false, num_head_channels: -1, num_heads: 2, num_heads_upsample: 4, class_cond: false, attention_resolutions: '28,14,7' }],
    ['fractional channel_mult', 'unet', { ...MNIST_UNET_CONFIG, num_channels: 64, channel_mult: '0.5,1.5' }],
    ['super-resolution', 'superres', { model_type: 'superres', large_size: 16, small_size: 8, num_channels: 32, channel_mult: '1,2', num_res_blocks: 1, attention_resolutions: '8', num_head_channels: 32, learn_sigma: true, class_cond: true, num_classes: 4 }],
    ...(['adaptive', 'spatial', 'spatial_v2'] as const).map((pool): [string, ModelType, Record<string, unknown>] => [`${pool} pool`, 'classifier', { ...MNIST_CLASSIFIER_CONFIG, classifier_pool: pool, classifier_resblock_updown: false }]),
  ];
  it.each(cases)('%s', (_name, modelType, config) => {
    const checked = checkModelConfig(config, FILE);
    expect(checked.modelType).toBe(modelType);
    const model = createFromCheckedConfig(checked, { init: 'zeros' });
    const built = [...model.parameterEntries()].map(([k, e]) => [k, e.torchShape]);
    expect([...checked.plan.shapes]).toEqual(built);
    let total = 0;
    for (const v of model.parameters().values()) total += v.size;
    expect(checked.plan.total).toBe(total);
    model.dispose();
  });

  it("sizes the released models without building them (ImageNet 64's ADM has 296M parameters, the paper's count)", () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      const { plan } = checkModelConfig({ ...preset.flags, model_type: preset.modelType }, `presets/${name}.json`);
      expect(plan.total, name).toBeLessThan(MODEL_LIMITS.parameters);
    }
    const i64 = checkModelConfig({ ...PRESETS.imagenet64!.flags, model_type: 'unet' }, FILE).plan.total;
    expect(i64).toBeGreaterThan(295.5e6);
    expect(i64).toBeLessThan(296.5e6);
  });
});

describe('weights that do not fit the architecture', () => {
  let dir: string;
  const SMALL = { ...MNIST_UNET_CONFIG, channel_mult: '1,2', attention_resolutions: '14' };
  let good: Map<string, HostTensor>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adm-config-'));
    const model = createFromCheckedConfig(checkModelConfig(SMALL, FILE), { seed: 1 });
    good = stateDict(model);
    model.dispose();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function folder(name: string, config: object | string, tensors: Map<string, HostTensor>): Promise<string> {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    await writeFile(join(path, 'model.safetensors'), serializeSafetensors(tensors));
    return path;
  }

  /** The TensorFileError loading `path` gives, with nothing left allocated. */
  async function loadError(path: string): Promise<TensorFileError> {
    const before = tf.memory().numTensors;
    const e = await loadModel(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(e).toBeInstanceOf(TensorFileError);
    expect((e as TensorFileError).file).toBe(join(path, 'model.safetensors'));
    return e as TensorFileError;
  }

  it('missing, unexpected, mis-shaped and integer tensors are named with the file, before the network is built', async () => {
    const missing = new Map(good);
    missing.delete('out.2.bias');
    let e = await loadError(await folder('missing', SMALL, missing));
    expect(e.tensor).toBe('out.2.bias');
    expect(e.message).toMatch(/model\.safetensors \(tensor "out\.2\.bias"\): state_dict does not fit the model \(missing parameters: out\.2\.bias\)/);

    e = await loadError(await folder('unexpected', SMALL, new Map([...good, ['module.extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]])));
    expect(e.tensor).toBe('module.extra');

    const wrong = new Map(good);
    wrong.set('input_blocks.0.0.weight', { dtype: 'F32', shape: [32, 3, 3, 3], data: new Float32Array(32 * 27) });
    e = await loadError(await folder('shape', SMALL, wrong));
    expect(e.tensor).toBe('input_blocks.0.0.weight');
    expect(e.message).toMatch(/mis-shaped parameters: input_blocks\.0\.0\.weight: file has \[32, 3, 3, 3\], model expects \[32, 1, 3, 3\]/);

    const ints = new Map(good);
    ints.set('out.2.bias', { dtype: 'I32', shape: [2], data: new Int32Array(2) });
    e = await loadError(await folder('int', SMALL, ints));
    expect(e.message).toMatch(/not floating point: out\.2\.bias: dtype I32/);
  });

  it("a config that is not the weights' (wider, or a classifier's) is refused naming both files' problem", async () => {
    const e = await loadError(await folder('wider', { ...SMALL, num_channels: 64 }, good));
    expect(e.tensor).toBe('time_embed.0.weight');
    expect(e.message).toMatch(/file has \[128, 32\], model expects \[256, 64\]/);
    const clf = await folder('clf', MNIST_CLASSIFIER_CONFIG, good);
    await expect(loadModel(clf, { expect: ['unet'] })).rejects.toThrow(`${join(clf, 'config.json')}: model_type: holds a classifier model, expected unet`);
    await expect(loadModelFolder(clf, ['unet'])).rejects.toThrow(`${join(clf, 'config.json')}: model_type: holds a classifier model, expected unet`);
  });

  it('every config error from a folder on disk names its config.json', async () => {
    const deep = JSON.stringify({ ...SMALL, channel_mult: 0 }).replace('"channel_mult":0', `"channel_mult":${nestedJson(10_000)}`);
    const configs = [{ ...SMALL, num_channels: -1 }, deep, { ...SMALL, num_heads: 3, num_head_channels: -1 }, { ...SMALL, image_size: 29 }];
    for (const [i, config] of configs.entries()) {
      const path = await folder(`bad${i}`, config, good);
      for (const load of [() => loadModel(path), () => loadModelFolder(path)]) {
        const err = await load().catch((x: unknown) => x);
        expect(err, String(i)).toBeInstanceOf(ConfigError);
        expect((err as Error).message.startsWith(`${join(path, 'config.json')}: `)).toBe(true);
      }
    }
  });
});
