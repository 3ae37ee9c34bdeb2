import * as tf from '@tensorflow/tfjs';
import { TensorFileError, readSafetensorsFile, useBackend, type HostTensor } from '@adm/core';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStateDict, stateDict } from './state-dict.js';
import { FIXTURES, TINY_KWARGS, hasFixtures } from './test-helpers.js';
import { UNetModel } from './unet-model.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function copy(m: Map<string, HostTensor>): Map<string, HostTensor> {
  return new Map([...m].map(([k, v]) => [k, { ...v, shape: [...v.shape] }]));
}

describe('loadStateDict / stateDict', () => {
  it.skipIf(!hasFixtures)('round-trips guided-diffusion weights through the internal layouts exactly', async () => {
    const spec = JSON.parse(await readFile(`${FIXTURES}unet_forward_b/case.json`, 'utf8'));
    const weights = (await readSafetensorsFile(`${FIXTURES}unet_forward_b/tensors.safetensors`)).withPrefix('model.');
    const model = new UNetModel(spec.model_resolved.kwargs, { init: 'zeros' });
    loadStateDict(model, weights, 'unet_forward_b');
    const back = stateDict(model);
    expect([...back.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [k, w] of weights) {
      expect(back.get(k)!.shape).toEqual(w.shape);
      expect(Array.from(back.get(k)!.data as Float32Array)).toEqual(Array.from(w.data as Float32Array));
    }
    // a conv kernel is OIHW there and HWIO here: element [o, i, kh, kw] lands at [kh, kw, i, o]
    const w = weights.get('input_blocks.0.0.weight')!;
    const v = model.parameters().get('input_blocks.0.0.weight')!.arraySync() as number[][][][];
    const [, I, KH, KW] = w.shape;
    const at = (o: number, i: number, a: number, b: number) => (w.data as Float32Array)[((o * I + i) * KH + a) * KW + b];
    expect(v[2][1][0][5]).toBe(at(5, 0, 2, 1));
    model.dispose();
  });

  it('loads a saved state_dict into a fresh model with identical outputs', () => {
    const a = new UNetModel(TINY_KWARGS, { seed: 7 });
    const b = new UNetModel(TINY_KWARGS, { init: 'zeros' });
    loadStateDict(b, stateDict(a), 'memory');
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([123]);
    const y = tf.tensor1d([2], 'int32');
    const oa = a.apply(x, t, { y });
    const ob = b.apply(x, t, { y });
    expect(Array.from(ob.dataSync())).toEqual(Array.from(oa.dataSync()));
    tf.dispose([x, t, y, oa, ob]);
    a.dispose();
    b.dispose();
  });

  it('names missing, unexpected and mis-shaped parameters and assigns nothing then', () => {
    const src = new UNetModel(TINY_KWARGS, { seed: 3 });
    const sd = stateDict(src);
    src.dispose();
    const model = new UNetModel(TINY_KWARGS, { init: 'zeros' });

    const missing = copy(sd);
    missing.delete('middle_block.1.qkv.bias');
    expect(() => loadStateDict(model, missing, 'm.pt')).toThrow(TensorFileError);
    expect(() => loadStateDict(model, missing, 'm.pt')).toThrow(/m\.pt.*missing parameters: middle_block\.1\.qkv\.bias/);

    const unexpected = copy(sd);
    unexpected.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    expect(() => loadStateDict(model, unexpected, 'u.pt')).toThrow(/unexpected parameters: extra\.weight/);

    const misShaped = copy(sd);
    misShaped.set('out.2.weight', { dtype: 'F32', shape: [6, 32, 1, 9], data: new Float32Array(6 * 32 * 9) });
    expect(() => loadStateDict(model, misShaped, 's.pt')).toThrow(/mis-shaped parameters: out\.2\.weight: file has \[6, 32, 1, 9\], model expects \[6, 32, 3, 3\]/);
    // non-strict tolerates missing/unexpected names but never a wrong shape
    expect(() => loadStateDict(model, misShaped, 's.pt', { strict: false })).toThrow(/mis-shaped/);
    expect(tf.tidy(() => tf.max(tf.abs(model.parameters().get('time_embed.0.weight')!)).dataSync()[0])).toBe(0);
    loadStateDict(model, missing, 'm.pt', { strict: false });
    expect(tf.tidy(() => tf.max(tf.abs(model.parameters().get('time_embed.0.weight')!)).dataSync()[0])).toBeGreaterThan(0);
    model.dispose();
  });
});
