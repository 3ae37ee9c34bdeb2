// A training step of the MNIST preset's architecture on wasm: the gradients of the hybrid
// loss (core's GaussianDiffusion.trainingLosses) w.r.t. every parameter match the cpu
// backend's (pure JS, the reference). The network is the preset with its size cut so the
// cpu side stays quick: 32 channels, 1 res block per level, 8x8 images, batch 2 — same
// blocks (scale-shift norm, ResBlock up/downsampling, attention at the two lower levels
// with 32-channel heads, class embedding, learned sigmas).
// The full-size preset (8.0M parameters, 28x28) is checked against the native backend
// (oneDNN, an independent implementation of every kernel), where it is built: the cpu
// backend's convolution gradients would take ~10 minutes for it.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, createGaussianDiffusion, loadBackendPluginModules, useBackend } from '@adm/core';
import { UNetModel, type UNetKwargs } from '@adm/unet';
import { loadAddon } from '@adm/native';
import { scheduleFactory } from '@adm/schedules';
import { MNIST_FLAGS, unetKwargs } from './presets.js';

const small = { ...unetKwargs({ ...MNIST_FLAGS, num_channels: 32, num_res_blocks: 1, image_size: 8, attention_resolutions: '4,2' }) };
const full = unetKwargs(MNIST_FLAGS);
const batch = 2;
const nativeMissing = loadAddon();

async function gradients(backend: string, kwargs: UNetKwargs): Promise<{ loss: number; grads: Map<string, Float32Array>; growth: number }> {
  await loadBackendPluginModules();
  await useBackend(backend);
  const rng = new SeededRandom(7);
  const model = new UNetModel(kwargs, { seed: 3 });
  model.training = true;
  const diffusion = createGaussianDiffusion({ steps: 1000, learn_sigma: true, noise_schedule: 'cosine' }, scheduleFactory);
  const s = kwargs.image_size;
  const x0 = tf.tensor4d(rng.uniform(batch * s * s).map((v) => 2 * v - 1), [batch, s, s, 1]);
  const noise = tf.tensor4d(rng.normal(batch * s * s), [batch, s, s, 1]);
  const y = tf.tensor1d([3, 8], 'int32');
  const t = [17, 901];
  const vars = [...model.parameters().entries()];
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => tf.mean(diffusion.trainingLosses(model, x0, t, { cond: { y }, noise }).loss) as tf.Scalar, vars.map(([, v]) => v));
  const out = new Map<string, Float32Array>();
  for (const [name, v] of vars) out.set(name, Float32Array.from(grads[v.name].dataSync()));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  const growth = tf.memory().numTensors - before;
  tf.dispose([x0, noise, y]);
  model.dispose();
  return { loss, grads: out, growth };
}

/** Every parameter's gradient of `got` within `rel` of `ref`'s, relative to that gradient's largest entry. */
function expectSameGradients(got: Awaited<ReturnType<typeof gradients>>, ref: Awaited<ReturnType<typeof gradients>>, rel: number, label: string): void {
  expect(Math.abs(got.loss - ref.loss), `loss ${label} ${got.loss} reference ${ref.loss}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss)));
  expect(got.grads.size).toBe(ref.grads.size);
  let worst = 0;
  let worstName = '';
  for (const [name, g] of ref.grads) {
    const w = got.grads.get(name)!;
    let scale = 1e-8;
    for (const v of g) scale = Math.max(scale, Math.abs(v));
    let diff = 0;
    for (let i = 0; i < g.length; i++) diff = Math.max(diff, Math.abs(w[i] - g[i]));
    // float32 with another summation order: ~1e-6 of the gradient's scale; the bound leaves
    // room for the long backward chain, and is far below what a wrong kernel gives (~1).
    expect(diff / scale, `${name}: max |${label} - reference| ${diff} (scale ${scale})`).toBeLessThan(rel);
    if (diff / scale > worst) [worst, worstName] = [diff / scale, name];
  }
  console.log(`${label}: ${ref.grads.size} parameter gradients, worst relative difference ${worst.toExponential(2)} (${worstName}); loss ${ref.loss}`);
  expect(got.growth, `tensors left after the step (${label})`).toBe(0);
}

describe('MNIST-preset UNet training step on wasm', () => {
  it('has the cpu backend gradients for every parameter (preset blocks at reduced size)', async () => {
    const cpu = await gradients('cpu', small);
    const wasm = await gradients('wasm', small);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'wasm plugin of @adm/backends is active').toBeDefined();
    expectSameGradients(wasm, cpu, 1e-4, 'wasm vs cpu');
  });

  it.skipIf(typeof nativeMissing === 'string')('has the native backend gradients for every parameter (full preset, 8.0M parameters, 28x28)', async () => {
    const native = await gradients('native', full);
    const wasm = await gradients('wasm', full);
    expectSameGradients(wasm, native, 1e-4, 'wasm vs native');
  });
});
