// Writes the page's model catalog (public/models/index.json) and tiny RANDOM-WEIGHT demo
// models (@adm/unet model folders) so the page runs the real network structure before
// trained models exist. Trained models committed under <repo>/models/ are copied in and
// listed first when present. Run by `npm run build` / `npm run dev` (npm run models).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom, useBackend, writeFileAtomic } from '@adm/core';
import { createFromFlags, saveModelFolder, type ModelFlags, type ModelType } from '@adm/unet';
import type { CatalogModel } from '../src/model-catalog.js';

const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(appRoot, '../..');
// `--out <dir>` writes elsewhere (the e2e test builds into a temp folder, so a parallel
// `nx build` of the page never sees a half-written models folder).
const outFlag = process.argv.indexOf('--out');
const outRoot = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]!) : join(appRoot, 'public/models');

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

interface DemoModel {
  id: string;
  title: string;
  note: string;
  unet: ModelFlags;
  classifier: ModelFlags;
}

const MNIST_SHAPE = { image_size: 28, in_channels: 1, num_classes: 10 };
const DIFFUSION = { diffusion_steps: 1000, noise_schedule: 'cosine', learn_sigma: true };

/** Small ADMs shaped for 28x28 grey digits: a two-level one with attention, and a one-level one. */
export const DEMO_MODELS: DemoModel[] = [
  {
    id: 'demo-small',
    title: 'Small ADM + classifier · 28×28',
    note: 'Two levels (32, 64 channels), attention at 14×14, attention-pool classifier.',
    unet: { ...MNIST_SHAPE, ...DIFFUSION, class_cond: true, num_channels: 32, channel_mult: '1,2', num_res_blocks: 1, attention_resolutions: '14', num_heads: 2 },
    classifier: { ...MNIST_SHAPE, classifier_width: 32, channel_mult: '1,2', classifier_depth: 1, classifier_attention_resolutions: '14', num_head_channels: 32, classifier_pool: 'attention' },
  },
  {
    id: 'demo-micro',
    title: 'Micro ADM + classifier · 28×28',
    note: 'One level (32 channels), no attention: the fewest shaders, the fastest start.',
    unet: { ...MNIST_SHAPE, ...DIFFUSION, class_cond: true, num_channels: 32, channel_mult: '1', num_res_blocks: 1, attention_resolutions: '' },
    classifier: { ...MNIST_SHAPE, classifier_width: 32, channel_mult: '1', classifier_depth: 1, classifier_attention_resolutions: '', num_head_channels: 32, classifier_pool: 'adaptive' },
  },
];

/**
 * guided-diffusion zero-initialises output layers (zero_module), so a fresh network
 * predicts eps = 0 and constant logits; give them small noise so the demo shows the
 * network and the classifier gradient actually shaping the sample.
 */
function unzero(net: ReturnType<typeof createFromFlags>, seed: number): void {
  const rng = new SeededRandom(seed);
  for (const e of net.parameterEntries().values()) {
    if (e.variable.size > 1 && tf.tidy(() => tf.max(tf.abs(e.variable)).dataSync()[0]) === 0) {
      e.variable.assign(tf.tensor(rng.normal(e.variable.size), e.variable.shape, 'float32').mul(0.05));
    }
  }
}

async function writeRandomModel(dir: string, modelType: ModelType, flags: ModelFlags, seed: number): Promise<void> {
  const net = createFromFlags(modelType, flags, { init: 'random', seed });
  unzero(net, seed + 1);
  await saveModelFolder(dir, net, { ...flags, model_type: modelType });
  net.dispose();
}

/** Trained models committed under <repo>/models (by the training helpers), if any. */
async function bundledModels(): Promise<CatalogModel[]> {
  const unet = join(repoRoot, 'packages/models-mnist/mnist-unet');
  if (!existsSync(join(unet, 'model.safetensors'))) return [];
  await cp(unet, join(outRoot, 'mnist-unet'), { recursive: true });
  const clf = join(repoRoot, 'packages/models-mnist/mnist-classifier');
  const hasClf = existsSync(join(clf, 'model.safetensors'));
  if (hasClf) await cp(clf, join(outRoot, 'mnist-classifier'), { recursive: true });
  // Classes mean something only to a class-conditional model or through a classifier.
  const flags = JSON.parse(await readFile(join(unet, 'config.json'), 'utf8')) as ModelFlags;
  const labels = flags.class_cond === true || hasClf ? DIGITS : [];
  return [{ id: 'mnist', title: 'MNIST digits (trained)', denoiser: 'mnist-unet/', ...(hasClf ? { classifier: 'mnist-classifier/' } : {}), labels, randomWeights: false }];
}

export async function makeDemoModels(): Promise<CatalogModel[]> {
  await useBackend('cpu');
  await rm(outRoot, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  const models = await bundledModels();
  for (const [i, m] of DEMO_MODELS.entries()) {
    await writeRandomModel(join(outRoot, m.id, 'unet'), 'unet', m.unet, 10 * i + 1);
    await writeRandomModel(join(outRoot, m.id, 'classifier'), 'classifier', m.classifier, 10 * i + 2);
    models.push({
      id: m.id,
      title: m.title,
      denoiser: `${m.id}/unet/`,
      classifier: `${m.id}/classifier/`,
      labels: DIGITS,
      randomWeights: true,
      note: `${m.note} Untrained: the samples are structured noise, not digits.`,
    });
  }
  await writeFileAtomic(join(outRoot, 'index.json'), `${JSON.stringify({ models }, null, 2)}\n`);
  return models;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const models = await makeDemoModels();
  console.log(`models: ${models.map((m) => m.id).join(', ')} -> ${outRoot}`);
}
