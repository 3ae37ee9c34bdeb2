// core's installLeanGradients() on the ADM network: a tiny class-conditional UNet's hybrid-loss
// gradients (GaussianDiffusion.trainingLosses with learned sigmas) are bitwise those of
// tfjs-core's stock backward pass, with and without use_checkpoint. Gradient checkpointing
// (packages/unet/src/layers/checkpointing.ts) calls engine.gradients inside a gradient
// function one tape level deeper; the lean pass runs that nested call unrecorded and must
// leave the outer tape as the checkpointing expects. Lives under tools/ because packages may
// not import each other.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createGaussianDiffusion, installLeanGradients, leanGradientsInstalled, SeededRandom, useBackend } from '@adm/core';
import { UNetModel, type UNetKwargs } from '@adm/unet';
import { scheduleFactory } from '@adm/schedules';

const KWARGS: UNetKwargs = {
  image_size: 8,
  in_channels: 1,
  model_channels: 32,
  out_channels: 2,
  num_res_blocks: 1,
  attention_resolutions: [2],
  dropout: 0,
  channel_mult: [1, 2],
  num_classes: 3,
  num_head_channels: 16,
  use_scale_shift_norm: true,
  resblock_updown: true,
};

beforeAll(async () => {
  await useBackend('cpu');
});

interface StepGradients {
  loss: Float32Array;
  grads: Map<string, Float32Array>;
  leftOver: number;
}

/** One hybrid-loss gradient computation of a freshly built (seeded) tiny UNet. */
function stepGradients(useCheckpoint: boolean): StepGradients {
  const model = new UNetModel({ ...KWARGS, use_checkpoint: useCheckpoint }, { seed: 5 });
  model.training = true;
  const diffusion = createGaussianDiffusion({ steps: 1000, learn_sigma: true, noise_schedule: 'cosine' }, scheduleFactory);
  const rng = new SeededRandom(11);
  // 4x4 inputs keep the cpu backend's backward convolutions cheap
  const x0 = tf.tensor4d(rng.uniform(2 * 16).map((v) => 2 * v - 1), [2, 4, 4, 1]);
  const noise = tf.tensor4d(rng.normal(2 * 16), [2, 4, 4, 1]);
  const y = tf.tensor1d([2, 0], 'int32');
  const vars = [...model.parameters().entries()];
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => tf.mean(diffusion.trainingLosses(model, x0, [40, 730], { cond: { y }, noise }).loss) as tf.Scalar,
    vars.map(([, v]) => v),
  );
  const out = new Map<string, Float32Array>();
  for (const [name, v] of vars) out.set(name, Float32Array.from(grads[v.name].dataSync()));
  const loss = Float32Array.from(value.dataSync());
  tf.dispose([value, ...Object.values(grads)]);
  const leftOver = tf.memory().numTensors - before;
  tf.dispose([x0, noise, y]);
  model.dispose();
  return { loss, grads: out, leftOver };
}

function expectBitwiseEqual(lean: StepGradients, stock: StepGradients): void {
  expect(new Uint32Array(lean.loss.buffer)).toEqual(new Uint32Array(stock.loss.buffer));
  expect([...lean.grads.keys()]).toEqual([...stock.grads.keys()]);
  for (const [name, g] of stock.grads) {
    const a = new Uint32Array(g.buffer);
    const b = new Uint32Array(lean.grads.get(name)!.buffer);
    let differing = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
    expect(differing, `${name}: entries differing in bits`).toBe(0);
  }
  expect(lean.leftOver, 'tensors left by the lean step').toBe(0);
}

describe('lean gradients on the UNet training step', () => {
  for (const useCheckpoint of [false, true]) {
    it(`gives the stock hybrid-loss gradients bitwise (use_checkpoint=${useCheckpoint})`, () => {
      expect(leanGradientsInstalled()).toBe(false);
      const stock = stepGradients(useCheckpoint);
      const undo = installLeanGradients();
      try {
        const lean = stepGradients(useCheckpoint);
        expectBitwiseEqual(lean, stock);
      } finally {
        undo();
      }
    });
  }
});
