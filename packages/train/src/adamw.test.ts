import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@adm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';

const f = Math.fround;

/** torch.optim.AdamW's single-tensor step written out in float32 (Math.fround), independently. */
function referenceAdamW(p: number[], grads: number[][], lr: number, wd: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out = p.map((x) => f(x));
  grads.forEach((g, k) => {
    const step = k + 1;
    const bc1 = 1 - 0.9 ** step;
    const bc2 = 1 - 0.999 ** step;
    for (let i = 0; i < out.length; i++) {
      out[i] = f(out[i] * f(1 - lr * wd));
      m[i] = f(f(m[i] * f(0.9)) + f(f(1 - 0.9) * f(g[i])));
      v[i] = f(f(v[i] * f(0.999)) + f(f(f(1 - 0.999) * f(g[i])) * f(g[i])));
      const denom = f(f(f(Math.sqrt(v[i])) / f(Math.sqrt(bc2))) + f(1e-8));
      out[i] = f(out[i] + f(f(f(-(lr / bc1)) * m[i]) / denom));
    }
  });
  return out;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('matches a float32 re-statement of PyTorch AdamW over three steps, bit for bit', () => {
    const p0 = [0.5, -1.25, 3e-3, 0, 7.5, -2e-6];
    const grads = [
      [0.1, -0.2, 1e-9, 0, 5, -3e-7],
      [-0.05, 0.3, 2e-9, 1e-3, -4, 1e-6],
      [0.2, 0.2, -1e-9, 0, 3, 0.5],
    ];
    const v = tf.variable(tf.tensor1d(p0), true, 'adamw_test_p');
    const opt = new AdamW(new Map([['w', v]]), { lr: 3e-4, weightDecay: 0.05 });
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.step(new Map([['w', gt]]));
      gt.dispose();
    }
    expect(Array.from(v.dataSync())).toEqual(referenceAdamW(p0, grads, 3e-4, 0.05));
    expect(opt.stepCount).toBe(3);
    opt.dispose();
    v.dispose();
  });

  it('a first step moves each weight by about lr times the sign of its gradient', () => {
    const v = tf.variable(tf.tensor1d([1, 1, 1]), true, 'adamw_test_sign');
    const opt = new AdamW(new Map([['w', v]]), { lr: 1e-3, weightDecay: 0 });
    const g = tf.tensor1d([1e-3, -7, 0]);
    opt.step(new Map([['w', g]]));
    const got = Array.from(v.dataSync());
    expect(got[0]).toBeCloseTo(1 - 1e-3, 6);
    expect(got[1]).toBeCloseTo(1 + 1e-3, 6);
    expect(got[2]).toBe(1);
    tf.dispose([g, v]);
    opt.dispose();
  });

  it('state round-trips: a restored optimizer continues exactly like the original', () => {
    const mk = (name: string) => tf.variable(tf.tensor1d([0.3, -0.7]), true, name);
    const a = mk('adamw_state_a');
    const b = mk('adamw_state_b');
    const optA = new AdamW(new Map([['w', a]]), { lr: 1e-2 });
    const g1 = tf.tensor1d([0.5, -0.1]);
    const g2 = tf.tensor1d([-0.2, 0.4]);
    optA.step(new Map([['w', g1]]));
    b.assign(a);
    const optB = new AdamW(new Map([['w', b]]), { lr: 1e-2 });
    optB.setState(optA.getState());
    optA.step(new Map([['w', g2]]));
    optB.step(new Map([['w', g2]]));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, g1, g2]);
    optA.dispose();
    optB.dispose();
  });
});
