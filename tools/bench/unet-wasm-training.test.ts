// A training step of the MNIST preset's architecture on wasm: the gradients of the hybrid
// loss (core's GaussianDiffusion.trainingLosses) w.r.t. every parameter match the cpu
// backend's (pure JS, the reference). The network is the preset with its size cut so the
// cpu side stays quick: 32 channels, 1 res block per level, 8x8 images, batch 2 — same
// blocks (scale-shift norm, ResBlock up/downsampling, attention at the two lower levels
// with 32-channel heads, class embedding, learned sigmas). The full preset is in `npm run bench`.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, createGaussianDiffusion, useBackend } from '@adm/core';
import { UNetModel } from '@adm/unet';
import { scheduleFactory } from '@adm/schedules';
import { MNIST_FLAGS, unetKwargs } from './presets.js';

const kwargs = { ...unetKwargs({ ...MNIST_FLAGS, num_channels: 32, num_res_blocks: 1, image_size: 8, attention_resolutions: '4,2' }) };
const batch = 2;

async function gradients(backend: string): Promise<{ loss: number; grads: Map<string, Float32Array>; growth: number }> {
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

describe('MNIST-preset UNet training step on wasm', () => {
  it('has the cpu backend gradients for every parameter', async () => {
    const cpu = await gradients('cpu');
    const wasm = await gradients('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'wasm plugin of @adm/backends is active').toBeDefined();
    expect(Math.abs(wasm.loss - cpu.loss), `loss wasm ${wasm.loss} cpu ${cpu.loss}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(cpu.loss)));
    expect(wasm.grads.size).toBe(cpu.grads.size);
    let worst = 0;
    let worstName = '';
    for (const [name, g] of cpu.grads) {
      const w = wasm.grads.get(name)!;
      let scale = 1e-8;
      for (const v of g) scale = Math.max(scale, Math.abs(v));
      let diff = 0;
      for (let i = 0; i < g.length; i++) diff = Math.max(diff, Math.abs(w[i] - g[i]));
      // float32 with another summation order: ~1e-6 of the gradient's scale; 1e-4 leaves room
      // for the long backward chain, and is far below what a wrong kernel gives (~1).
      expect(diff / scale, `${name}: max |wasm - cpu| ${diff} (scale ${scale})`).toBeLessThan(1e-4);
      if (diff / scale > worst) [worst, worstName] = [diff / scale, name];
    }
    console.log(`${cpu.grads.size} parameter gradients, worst relative difference ${worst.toExponential(2)} (${worstName}); loss ${cpu.loss}`);
    expect(wasm.growth, 'tensors left after the step (wasm)').toBe(0);
  });
});
