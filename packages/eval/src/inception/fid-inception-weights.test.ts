import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TensorFileError, useBackend, type HostTensor } from '@adm/core';
import { FID_INCEPTION_CONVS, foldFidInceptionWeights, disposeFidInceptionWeights } from './fid-inception-weights.js';
import { readWeightFile } from './fid-inception.js';

const FIXTURES = join(__dirname, '../../../../../shared/fixtures');

beforeAll(async () => {
  await useBackend('cpu');
});

describe('FID Inception weights', () => {
  it('lists the 94 BasicConv2d layers of pytorch-fid (472 tensors with fc)', () => {
    expect(FID_INCEPTION_CONVS.length).toBe(94);
    expect(FID_INCEPTION_CONVS.length * 5 + 2).toBe(472);
  });

  it('folds batch norm into the conv: y = (conv(x) - mean) / sqrt(var + 1e-3) * gamma + beta', async () => {
    const sd = await readWeightFile(join(FIXTURES, 'inception/inception_fid/weights.safetensors'));
    // "module." prefixes (DataParallel checkpoints) are stripped.
    const prefixed = new Map<string, HostTensor>([...sd].map(([k, v]) => [`module.${k}`, v]));
    const w = foldFidInceptionWeights(prefixed);
    try {
      const c = w.convs.get('Conv2d_1a_3x3')!;
      expect(c.filter.shape).toEqual([3, 3, 3, 32]);
      // Independent check on one output channel at one position: a 3x3x3 patch of ones.
      const f = tf.tensor4d(new Float32Array(27).fill(1), [1, 3, 3, 3]);
      const y = tf.conv2d(f, c.filter, 1, 'valid').add(c.bias);
      const got = y.dataSync()[5];
      const dec = (name: string) => Float32Array.from(sd.get(name)!.data as Uint16Array, (h) => halfToFloat(h));
      const wt = dec('Conv2d_1a_3x3.conv.weight');
      let conv = 0;
      for (let i = 0; i < 27; i++) conv += wt[5 * 27 + i];
      const [g, b, m, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => dec(`Conv2d_1a_3x3.bn.${p}`)[5]);
      expect(Math.abs(got - ((conv - m) / Math.sqrt(v + 1e-3)) * g - b)).toBeLessThan(1e-5);
      tf.dispose([f, y]);
    } finally {
      disposeFidInceptionWeights(w);
    }
  });

  it('reads .pt/.pth through core and names what is missing', async () => {
    // A real PyTorch checkpoint that is not an Inception: the loader must say which parameter it lacks.
    const sd = await readWeightFile(join(FIXTURES, 'guided-diffusion/checkpoint_pt/model.pt'));
    expect(sd.size).toBeGreaterThan(0);
    expect(() => foldFidInceptionWeights(sd, 'model.pt')).toThrow(TensorFileError);
    expect(() => foldFidInceptionWeights(sd, 'model.pt')).toThrow(/model\.pt \(tensor "Conv2d_1a_3x3\.conv\.weight"\): missing/);
  });
});

function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}
