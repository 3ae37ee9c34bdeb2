// Writes the page's model catalog (public/models/index.json) and tiny RANDOM-WEIGHT demo
// models (config.json + model.safetensors) so the page runs the real network structure
// before trained models exist. Bundled trained models under <repo>/models/ are copied in
// and listed first when present. Run by `npm run build` / `npm run dev` (npm run models).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom, serializeSafetensors, useBackend, writeFileAtomic, type HostTensor } from '@adm/core';
import { EncoderUNetModel, UNetModel, stateDict, type EncoderUNetKwargs, type UNetKwargs } from '@adm/unet';
import type { CatalogModel } from '../src/model-catalog.js';

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(appRoot, '../..');
const outRoot = join(appRoot, 'public/models');

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** A 28x28 grey class-conditional ADM small enough to sample in a browser in seconds. */
export const DEMO_UNET_KWARGS: UNetKwargs = {
  image_size: 28,
  in_channels: 1,
  model_channels: 32,
  out_channels: 2,
  num_res_blocks: 1,
  attention_resolutions: [2],
  channel_mult: [1, 2],
  num_classes: 10,
  num_heads: 2,
  use_scale_shift_norm: true,
};
/** Its noisy classifier (Section 4.3's EncoderUNet with the attention pool), as small. */
export const DEMO_CLASSIFIER_KWARGS: EncoderUNetKwargs = {
  image_size: 28,
  in_channels: 1,
  model_channels: 32,
  out_channels: 10,
  num_res_blocks: 1,
  attention_resolutions: [2],
  channel_mult: [1, 2],
  num_head_channels: 32,
  use_scale_shift_norm: true,
  pool: 'attention',
};
export const DEMO_DIFFUSION = { steps: 1000, noise_schedule: 'cosine', learn_sigma: true };

/**
 * guided-diffusion zero-initialises output convolutions (zero_module), so a freshly made
 * network predicts eps = 0 everywhere; fill those with small noise so the demo shows the
 * network actually shaping the sample.
 */
function unzero(tensors: Map<string, HostTensor>, seed: number): Map<string, HostTensor> {
  const rng = new SeededRandom(seed);
  for (const [name, t] of tensors) {
    const data = t.data as Float32Array;
    if (name.endsWith('weight') && data.every((v) => v === 0)) {
      const noise = rng.normal(data.length);
      for (let i = 0; i < data.length; i++) data[i] = 0.05 * noise[i]!;
    }
  }
  return tensors;
}

async function writeRandomModel(folder: string, kind: 'UNetModel' | 'EncoderUNetModel', kwargs: UNetKwargs | EncoderUNetKwargs, seed: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const model = kind === 'UNetModel' ? new UNetModel(kwargs as UNetKwargs, { init: 'random', seed }) : new EncoderUNetModel(kwargs as EncoderUNetKwargs, { init: 'random', seed });
  const tensors = unzero(stateDict(model), seed + 1);
  model.dispose();
  await writeFileAtomic(join(folder, 'model.safetensors'), serializeSafetensors(tensors, { note: 'random weights (structure demo)' }));
  const config = { model: kind, kwargs, diffusion: DEMO_DIFFUSION, random_weights: true };
  await writeFileAtomic(join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** Trained models committed under <repo>/models (by the training helpers), if any. */
async function bundledModels(): Promise<CatalogModel[]> {
  const unet = join(repoRoot, 'models/mnist-unet');
  if (!existsSync(join(unet, 'model.safetensors'))) return [];
  await cp(unet, join(outRoot, 'mnist-unet'), { recursive: true });
  const clf = join(repoRoot, 'models/mnist-classifier');
  const hasClf = existsSync(join(clf, 'model.safetensors'));
  if (hasClf) await cp(clf, join(outRoot, 'mnist-classifier'), { recursive: true });
  return [
    {
      id: 'mnist',
      title: 'MNIST digits (trained)',
      denoiser: 'mnist-unet',
      ...(hasClf ? { classifier: 'mnist-classifier' } : {}),
      labels: DIGITS,
      randomWeights: false,
    },
  ];
}

export async function makeDemoModels(): Promise<CatalogModel[]> {
  await useBackend('cpu');
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const models = await bundledModels();
  await writeRandomModel(join(outRoot, 'demo-tiny/unet'), 'UNetModel', DEMO_UNET_KWARGS, 1);
  await writeRandomModel(join(outRoot, 'demo-tiny/classifier'), 'EncoderUNetModel', DEMO_CLASSIFIER_KWARGS, 2);
  models.push({
    id: 'demo-tiny',
    title: 'Tiny ADM + classifier (28×28, 10 classes)',
    denoiser: 'demo-tiny/unet',
    classifier: 'demo-tiny/classifier',
    labels: DIGITS,
    randomWeights: true,
    note: 'The network is untrained: the samples are structured noise, not digits.',
  });
  await writeFileAtomic(join(outRoot, 'index.json'), `${JSON.stringify({ models }, null, 2)}\n`);
  return models;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const models = await makeDemoModels();
  console.log(`models: ${models.map((m) => m.id).join(', ')} -> ${outRoot} (tf ${tf.version_core})`);
}
