// `npx tsx --tsconfig tsconfig.base.json tools/eval-mnist.ts [--model dir] [--classifier dir]
//   [--n 1000] [--samples-per-class 10] [--scales 0,1,2] [--backend names]`
// Measures the bundled MNIST models: (1) the noisy classifier's accuracy on the MNIST TEST
// split at several noise levels t (x_t = q_sample(x_0, t)); (2) for each guidance scale,
// how often DDIM-25 samples of each class are classified as the requested class by that
// same classifier at t = 0 (a fidelity proxy: the classifier is also the guide, so read it
// as "guidance does what it says", not as an independent accuracy).
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { createContainer, createGaussianDiffusion, pipelineModule, TOKENS, useBackend, type SamplingPipeline } from '@adm/core';
import { guidanceModule } from '@adm/guidance';
import { samplersModule } from '@adm/samplers';
import { scheduleFactory } from '@adm/schedules';
import { schedulesModule } from '@adm/schedules';
import { MnistDataset } from '@adm/train';
import { type EncoderUNetModel, loadModelFolder, unetModule } from '@adm/unet';

const { values: o } = parseArgs({
  options: {
    model: { type: 'string', default: 'packages/models-mnist/mnist-unet' },
    classifier: { type: 'string', default: 'packages/models-mnist/mnist-classifier' },
    n: { type: 'string', default: '1000' },
    'samples-per-class': { type: 'string', default: '10' },
    scales: { type: 'string', default: '0,1,2' },
    backend: { type: 'string', default: 'auto' },
  },
});
const backend = await useBackend(o.backend!);
const { model: clf, flags } = await loadModelFolder(o.classifier!);
const classifier = clf as EncoderUNetModel;
const diffusion = createGaussianDiffusion({ steps: Number(flags.diffusion_steps ?? 1000), noise_schedule: String(flags.noise_schedule ?? 'linear') }, scheduleFactory);
const test = await MnistDataset.load({ split: 'test', imageSize: Number(flags.image_size), limit: Number(o.n) });
const out: Record<string, unknown> = { backend: backend.name, test_images: test.length, classifier_accuracy: {}, guided_sample_accuracy: {} };

function argmaxMatches(logits: tf.Tensor2D, y: Int32Array): number {
  const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array);
  let k = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) k++;
  return k;
}

for (const t of [0, 100, 250, 500, 750, 999]) {
  let hits = 0;
  for (let s = 0; s < test.length; s += 100) {
    const idx = Array.from({ length: Math.min(100, test.length - s) }, (_, i) => s + i);
    const b = test.batch(idx);
    const logits = tf.tidy(() => {
      const x0 = tf.tensor4d(b.x, b.shape);
      const ts = new Int32Array(idx.length).fill(t);
      const xt = diffusion.qSample(x0, ts, tf.randomNormal(b.shape, 0, 1, 'float32', 1234 + s));
      return classifier.apply(xt, tf.fill([idx.length], t, 'float32') as tf.Tensor1D);
    });
    hits += argmaxMatches(logits, b.y!);
    logits.dispose();
  }
  (out.classifier_accuracy as Record<string, number>)[`t=${t}`] = hits / test.length;
  console.error(`classifier accuracy at t=${t}: ${(hits / test.length).toFixed(4)}`);
}

const pipeline = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
const per = Number(o['samples-per-class']);
const classes = Array.from({ length: 10 * per }, (_, i) => i % 10);
for (const scale of o.scales!.split(',').map(Number)) {
  const result = await pipeline.sample({
    model: o.model!,
    classifier: scale > 0 ? o.classifier! : undefined,
    respacing: 'ddim25',
    sampler: 'ddim',
    guidance: scale > 0 ? [{ type: 'classifier', scale }] : [],
    batch_size: Math.min(50, classes.length),
    num_samples: classes.length,
    seed: 7,
    classes,
  } as never);
  const { images, labels } = result;
  const logits = tf.tidy(() => {
    const x = tf.sub(tf.div(tf.tensor4d(Float32Array.from(images.data), images.shape), 127.5), 1) as tf.Tensor4D;
    return classifier.apply(x, tf.zeros([images.shape[0]]) as tf.Tensor1D);
  });
  const acc = argmaxMatches(logits, labels!) / classes.length;
  logits.dispose();
  (out.guided_sample_accuracy as Record<string, number>)[`scale=${scale}`] = acc;
  console.error(`DDIM-25 samples classified as their requested class, scale ${scale}: ${acc.toFixed(3)}`);
}
console.log(JSON.stringify(out, null, 2));
process.exit(0);
