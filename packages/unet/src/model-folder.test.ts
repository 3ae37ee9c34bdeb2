import * as tf from '@tensorflow/tfjs';
import { ConfigError, TOKENS, createContainer, useBackend, type ClassifierLoader, type DenoiserLoader } from '@adm/core';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifierKwargs, createModel, createModelKwargs, createSuperResModelKwargs } from './create-model.js';
import { loadModelFolder, saveModelFolder } from './model-folder.js';
import { PRESETS, getPreset } from './presets.js';
import { resolveEncoderKwargs, resolveUNetKwargs } from './unet-kwargs.js';
import { unetModule } from './unet-module.js';
import { UNetModel } from './unet-model.js';

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'adm-unet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FLAGS = {
  image_size: 8,
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: '1,2',
  attention_resolutions: '4',
  num_head_channels: 16,
  learn_sigma: true,
  class_cond: true,
  num_classes: 3,
  resblock_updown: true,
  noise_schedule: 'cosine',
};

describe('create_model flags', () => {
  it("resolve like guided-diffusion's script_util (defaults, resolutions -> rates)", () => {
    const kw = createModelKwargs(FLAGS);
    expect(kw.attention_resolutions).toEqual([2]);
    expect(kw.out_channels).toBe(6);
    expect(kw.num_classes).toBe(3);
    expect(kw.use_scale_shift_norm).toBe(true); // model_and_diffusion_defaults
    expect(kw.num_heads).toBe(4);
    const strings = createModelKwargs({ ...FLAGS, class_cond: 'False', learn_sigma: 'True', num_channels: '32' });
    expect(strings.num_classes).toBeNull();
    expect(strings.model_channels).toBe(32);
    expect(() => createModelKwargs({ ...FLAGS, channel_mult: '', image_size: 28 })).toThrow(/channel_mult.*image size 28/);
    expect(() => createModelKwargs({ ...FLAGS, class_cond: 'maybe' })).toThrow(ConfigError);
  });

  it("presets give the paper's configurations", () => {
    const i64 = createModelKwargs(getPreset('imagenet64').flags);
    expect(i64).toMatchObject({ image_size: 64, model_channels: 192, num_res_blocks: 3, channel_mult: [1, 2, 3, 4], attention_resolutions: [2, 4, 8], num_classes: 1000, out_channels: 6, num_head_channels: 64, use_new_attention_order: true });
    expect(createModelKwargs(getPreset('imagenet512').flags).channel_mult).toEqual([0.5, 1, 1, 2, 2, 4, 4]);
    expect(createModelKwargs(getPreset('lsun256').flags).num_classes).toBeNull();
    expect(createSuperResModelKwargs(getPreset('upsample64-256').flags)).toMatchObject({ image_size: 256, channel_mult: [1, 1, 2, 2, 4, 4], attention_resolutions: [8, 16, 32] });
    expect(createClassifierKwargs(getPreset('classifier64').flags)).toMatchObject({ model_channels: 128, num_res_blocks: 4, out_channels: 1000, num_head_channels: 64, pool: 'attention' });
    for (const [name, p] of Object.entries(PRESETS)) {
      // every preset resolves to valid constructor kwargs
      if (p.modelType === 'classifier') expect(() => resolveEncoderKwargs(createClassifierKwargs(p.flags)), name).not.toThrow();
      else expect(() => resolveUNetKwargs(p.modelType === 'superres' ? createSuperResModelKwargs(p.flags) : createModelKwargs(p.flags)), name).not.toThrow();
    }
    expect(() => getPreset('imagenet65')).toThrow(/known: imagenet64/);
  });

  it('the MNIST preset is the 8.0M-parameter reference network', async () => {
    const ref = JSON.parse(await readFile(new URL('../../../../shared/reference/mnist_small.json', import.meta.url), 'utf8').catch(() => 'null'));
    const model = createModel(getPreset('mnist').flags, { init: 'zeros' });
    // same architecture as the reference config the PyTorch speed baseline uses
    if (ref) expect(createModelKwargs(getPreset('mnist').flags)).toEqual(createModelKwargs(ref));
    let n = 0;
    for (const v of model.parameters().values()) n += v.size;
    // PLATFORM.md: the PyTorch build of this configuration has 8.0M parameters
    expect(n).toBeGreaterThan(7.95e6);
    expect(n).toBeLessThan(8.05e6);
    model.dispose();
  });
});

describe('model folders', () => {
  it('save and load round-trip (config.json + model.safetensors), through the DI loaders too', async () => {
    const model = createModel(FLAGS, { seed: 11 });
    const folder = join(dir, 'tiny');
    await saveModelFolder(folder, model, FLAGS);
    expect((await readdir(folder)).sort()).toEqual(['config.json', 'model.safetensors']);
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'unet', image_size: 8, noise_schedule: 'cosine', diffusion_steps: 1000, use_scale_shift_norm: true });

    const { model: loaded, flags } = await loadModelFolder(folder);
    expect(flags.noise_schedule).toBe('cosine');
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t = tf.tensor1d([50]);
    const y = tf.tensor1d([1], 'int32');
    const a = model.apply(x, t, { y });
    const b = (loaded as UNetModel).apply(x, t, { y });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));

    const container = createContainer(unetModule);
    const viaDi = await container.get<DenoiserLoader>(TOKENS.DenoiserLoader).load(folder);
    expect(viaDi.denoiser.info.numClasses).toBe(3);
    expect(viaDi.flags.num_classes).toBe(3);
    await expect(container.get<ClassifierLoader>(TOKENS.ClassifierLoader).load(folder)).rejects.toThrow(/holds a unet model, expected classifier/);
    tf.dispose([x, t, y, a, b]);
    (viaDi.denoiser as UNetModel).dispose();
    loaded.dispose();
    model.dispose();
  });

  it('refuses flags that do not describe the model, and folders that are not model folders', async () => {
    const model = createModel(FLAGS, { init: 'zeros' });
    await expect(saveModelFolder(join(dir, 'bad'), model, { ...FLAGS, num_channels: 64 })).rejects.toThrow(/do not describe/);
    model.dispose();
    await expect(loadModelFolder(join(dir, 'nowhere'))).rejects.toThrow(/config\.json not found/);
    const broken = join(dir, 'broken');
    await saveModelFolder(broken, createModel(FLAGS, { init: 'zeros' }), FLAGS);
    await writeFile(join(broken, 'config.json'), JSON.stringify({ ...FLAGS, model_type: 'unet', num_res_blocks: 2 }));
    await expect(loadModelFolder(broken)).rejects.toThrow(/missing parameters/);
  });
});
