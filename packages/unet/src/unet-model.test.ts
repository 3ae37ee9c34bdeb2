import * as tf from '@tensorflow/tfjs';
import { ShapeError, readSafetensorsFile, useBackend } from '@adm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resizeBilinear } from './layers/bilinear-resize.js';
import { upsampleNearest2x } from './layers/resample.js';
import { timestepFrequencies } from './layers/timestep-embedding.js';
import { SuperResModel } from './superres-model.js';
import { FIXTURES, TINY_KWARGS, hasFixtures } from './test-helpers.js';
import { UNetModel } from './unet-model.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('UNetModel', () => {
  it('maps NHWC x, t, y to NHWC output and leaves no tensors behind', () => {
    const model = new UNetModel(TINY_KWARGS, { seed: 1 });
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const t = tf.tensor1d([0, 999]);
    const y = tf.tensor1d([0, 2], 'int32');
    const before = tf.memory().numTensors;
    const out = model.apply(x, t, { y });
    expect(out.shape).toEqual([2, 8, 8, 6]);
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, y]);
    model.dispose();
  });

  it('is differentiable: every parameter gets a gradient and nothing leaks', () => {
    const model = new UNetModel(TINY_KWARGS, { seed: 2 });
    // 4x4 inputs keep the cpu backend's slow backward convolutions cheap
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const t = tf.tensor1d([10, 500]);
    const y = tf.tensor1d([1, 0], 'int32');
    const r = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, t, { y }), r)) as tf.Scalar, [...model.parameters().values()]);
    expect(Object.keys(grads).length).toBe(model.parameters().size);
    // the zero-initialised output conv still gets a gradient (its input is not zero)
    const outW = grads[model.parameters().get('out.2.weight')!.name];
    expect(tf.tidy(() => tf.max(tf.abs(outW)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, y, r]);
    model.dispose();
  });

  it('names parameters like guided-diffusion and keeps PyTorch shapes beside NHWC ones', () => {
    const model = new UNetModel(TINY_KWARGS);
    const names = [...model.parameters().keys()];
    expect(names).toContain('time_embed.0.weight');
    expect(names).toContain('label_emb.weight');
    expect(names).toContain('input_blocks.3.1.qkv.weight');
    expect(names).toContain('input_blocks.2.0.in_layers.2.weight'); // ResBlock downsample (resblock_updown)
    expect(names).toContain('output_blocks.1.2.out_layers.3.weight'); // ResBlock upsample
    expect(names).toContain('out.2.bias');
    const e = model.parameterEntries().get('input_blocks.0.0.weight')!;
    expect(e.torchShape).toEqual([32, 3, 3, 3]);
    expect(e.variable.shape).toEqual([3, 3, 3, 32]);
    model.dispose();
  });

  it('rejects inputs that do not fit, naming what was expected', () => {
    const model = new UNetModel(TINY_KWARGS);
    const x = tf.zeros([1, 8, 8, 4]) as tf.Tensor4D;
    expect(() => model.apply(x, tf.zeros([1]) as tf.Tensor1D, { y: tf.zeros([1], 'int32') as tf.Tensor1D })).toThrow(/4 channels .*expects 3/);
    expect(() => model.apply(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(ShapeError);
    expect(() => model.apply(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(/vector of 2 timesteps/);
    model.dispose();
  });
});

describe('layers', () => {
  it('timestep frequencies follow exp(-ln(10000) i / half)', () => {
    const f = timestepFrequencies(32);
    expect(f.length).toBe(16);
    expect(f[0]).toBe(1);
    for (let i = 0; i < 16; i++) expect(f[i]).toBeCloseTo(Math.exp((-Math.log(10000) * i) / 16), 6);
  });

  it('nearest 2x upsampling has the right gradient for batch > 1', () => {
    const x = tf.tensor4d(Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i), [2, 2, 2, 3]);
    const up = upsampleNearest2x(x);
    expect(up.shape).toEqual([2, 4, 4, 3]);
    const upv = up.arraySync() as number[][][][];
    const xv = x.arraySync() as number[][][][];
    for (let n = 0; n < 2; n++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(upv[n][i][j]).toEqual(xv[n][i >> 1][j >> 1]);
    // d/dx sum(up * w) = sum of w over each 2x2 block
    const w = tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i % 7) - 3), [2, 4, 4, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(upsampleNearest2x(v as tf.Tensor4D), w)))(x).arraySync() as number[][][][];
    const wv = w.arraySync() as number[][][][];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++)
          for (let c = 0; c < 3; c++) {
            const s = wv[n][2 * i][2 * j][c] + wv[n][2 * i + 1][2 * j][c] + wv[n][2 * i][2 * j + 1][c] + wv[n][2 * i + 1][2 * j + 1][c];
            expect(g[n][i][j][c]).toBe(s);
          }
    tf.dispose([x, up, w]);
  });

  it.skipIf(!hasFixtures)("bilinear upsampling matches PyTorch's F.interpolate (superres_forward fixture)", async () => {
    const file = await readSafetensorsFile(`${FIXTURES}superres_forward/tensors.safetensors`);
    const lr = file.get('in.low_res');
    const want = file.get('out.upsampled');
    const x = tf.transpose(tf.tensor4d(lr.data as Float32Array, lr.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
    const up = resizeBilinear(x, want.shape[2], want.shape[3]);
    const got = tf.transpose(up, [0, 3, 1, 2]).dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - (want.data as Float32Array)[i]));
    expect(worst).toBeLessThan(3e-7);
    tf.dispose([x, up]);
  });

  it('SuperResModel needs the low-res image and concatenates it after x', () => {
    const sr = new SuperResModel({ ...TINY_KWARGS, num_classes: null }, { seed: 5 });
    expect(sr.info.inChannels).toBe(3);
    expect(sr.parameterEntries().get('input_blocks.0.0.weight')!.torchShape).toEqual([32, 6, 3, 3]);
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const t = tf.zeros([1]) as tf.Tensor1D;
    expect(() => sr.apply(x, t)).toThrow(/lowRes/);
    const lowRes = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = sr.apply(x, t, { lowRes });
    expect(out.shape).toEqual([1, 8, 8, 6]);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, lowRes]);
    sr.dispose();
  });
});

describe('use_checkpoint', () => {
  it('recomputes activations in the backward pass and gives the same gradients', () => {
    const plain = new UNetModel({ ...TINY_KWARGS, dropout: 0 }, { seed: 6 });
    const ckpt = new UNetModel({ ...TINY_KWARGS, dropout: 0, use_checkpoint: true }, { init: 'zeros' });
    for (const [k, v] of plain.parameters()) ckpt.parameters().get(k)!.assign(v);
    plain.training = true;
    ckpt.training = true;
    const x = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const t = tf.tensor1d([321]);
    const y = tf.tensor1d([2], 'int32');
    const r = tf.randomNormal([1, 4, 4, 6], 0, 1, 'float32', 9);
    const grads = (m: UNetModel) => tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, t, { y }), r)) as tf.Scalar, [...m.parameters().values()]);
    const a = grads(plain);
    const before = tf.memory().numTensors;
    const b = grads(ckpt);
    expect(b.value.dataSync()[0]).toBeCloseTo(a.value.dataSync()[0], 4);
    const names = [...plain.parameters().keys()];
    expect(Object.keys(b.grads).length).toBe(names.length);
    for (const n of names) {
      const ga = a.grads[plain.parameters().get(n)!.name].dataSync();
      const gb = b.grads[ckpt.parameters().get(n)!.name].dataSync();
      let worst = 0;
      for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(ga[i] - gb[i]) / (1 + Math.abs(ga[i])));
      expect(worst, n).toBeLessThan(1e-4);
    }
    tf.dispose([b.value, ...Object.values(b.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a.value, ...Object.values(a.grads), x, t, y, r]);
    plain.dispose();
    ckpt.dispose();
  });
});
