import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@adm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierGuidanceGradient } from './classifier-guidance.js';
import { EncoderUNetModel } from './encoder-unet-model.js';
import type { EncoderUNetKwargs } from './unet-kwargs.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const base: EncoderUNetKwargs = {
  image_size: 8,
  in_channels: 3,
  model_channels: 32,
  out_channels: 5,
  num_res_blocks: 1,
  attention_resolutions: [2],
  channel_mult: [1, 2],
  num_head_channels: 32,
  use_scale_shift_norm: true,
  resblock_updown: true,
};

describe('EncoderUNetModel', () => {
  it('builds every pool head under guided-diffusion names', () => {
    const heads: Record<string, string[]> = {
      attention: ['out.0.weight', 'out.2.positional_embedding', 'out.2.qkv_proj.weight', 'out.2.c_proj.bias'],
      adaptive: ['out.0.weight', 'out.3.weight', 'out.3.bias'],
      spatial: ['out.0.weight', 'out.2.weight'],
      spatial_v2: ['out.0.weight', 'out.1.weight', 'out.3.weight'],
    };
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([5, 900]);
    for (const [pool, names] of Object.entries(heads)) {
      const m = new EncoderUNetModel({ ...base, pool: pool as EncoderUNetKwargs['pool'] });
      for (const n of names) expect(m.parameters().has(n), `${pool}: ${n}`).toBe(true);
      const before = tf.memory().numTensors;
      const logits = m.apply(x, t);
      expect(logits.shape).toEqual([2, 5]);
      logits.dispose();
      expect(tf.memory().numTensors).toBe(before);
      m.dispose();
    }
    // attention pool: positional embedding [C, (8/2)^2 + 1] in PyTorch's layout
    const m = new EncoderUNetModel({ ...base, pool: 'attention' });
    expect(m.parameterEntries().get('out.2.positional_embedding')!.torchShape).toEqual([64, 17]);
    // spatial: the features are the concatenated means of every input block and the middle block
    const s = new EncoderUNetModel({ ...base, pool: 'spatial' });
    expect(s.parameterEntries().get('out.0.weight')!.torchShape).toEqual([2048, 32 + 32 + 32 + 64 + 64]);
    tf.dispose([x, t]);
    m.dispose();
    s.dispose();
  });

  it('gives the guidance gradient of s * log p(y | x) (checked by finite differences)', () => {
    const m = new EncoderUNetModel({ ...base, pool: 'adaptive' }, { seed: 4 });
    // the adaptive head's conv is zero-initialised: give it values so logits depend on x
    m.parameters().get('out.3.weight')!.assign(tf.randomNormal([1, 1, 64, 5], 0, 0.5, 'float32', 9));
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t = tf.tensor1d([3, 40]);
    const y = tf.tensor1d([1, 4], 'int32');
    const scale = 2.5;
    const before = tf.memory().numTensors;
    const g = classifierGuidanceGradient(m, x, t, y, scale);
    expect(tf.memory().numTensors).toBe(before + 1);
    const gv = g.dataSync();
    const xv = x.dataSync();
    const objective = (values: Float32Array) =>
      tf.tidy(() => {
        const lp = tf.logSoftmax(m.apply(tf.tensor4d(values, [2, 8, 8, 3]), t)).arraySync() as number[][];
        return scale * (lp[0][1] + lp[1][4]);
      });
    const eps = 1e-2;
    for (const i of [0, 77, 200, 383]) {
      const plus = Float32Array.from(xv);
      const minus = Float32Array.from(xv);
      plus[i] += eps;
      minus[i] -= eps;
      const fd = (objective(plus) - objective(minus)) / (2 * eps);
      expect(Math.abs(gv[i] - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    tf.dispose([x, t, y, g]);
    m.dispose();
  });
});
