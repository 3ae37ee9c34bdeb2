import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom, useBackend } from '@adm/core';
import { loadAddon } from './addon.js';
import { deviation, onBothBackends, type Deviation } from './compare-backends.js';
import { groupNorm } from './group-norm.js';
import { silu } from './silu.js';
import './plugin.js';

// Each native kernel against the cpu backend's JavaScript kernel on the same random inputs.
// Tolerances are relative to the reference's largest magnitude: float32 sums in another order.
const addon = loadAddon();
const notBuilt = typeof addon === 'string' ? addon : null;
const worst = new Map<string, Deviation>();

function record(kind: string, d: Deviation) {
  const w = worst.get(kind);
  if (!w || d.relative > w.relative) worst.set(kind, d);
}

async function expectSame(kind: string, label: string, fn: () => tf.Tensor | tf.Tensor[], tol: number) {
  const r = await onBothBackends(fn);
  expect(r.nativeCalls, `${label}: no kernel ran in the addon`).toBeGreaterThan(0);
  r.cpu.forEach((ref, i) => {
    const d = deviation(r.native[i], ref);
    record(kind, d);
    expect(d.relative, `${label} output ${i} [${r.shapes[i]}]: max abs error ${d.maxAbs.toExponential(2)}, relative ${d.relative.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
  });
}

const rng = new SeededRandom(7);
const normal = (shape: number[]) => tf.tensor(rng.normal(shape.reduce((p, d) => p * d, 1)), shape);
/** Fixed values for one case, so both backends see the same inputs. */
const fixed = (shape: number[]) => {
  const v = rng.normal(shape.reduce((p, d) => p * d, 1));
  return () => tf.tensor(v, shape);
};

describe.skipIf(notBuilt !== null)('native kernels vs the cpu backend', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterAll(() => {
    const lines = [...worst].map(([k, d]) => `${k}: max abs ${d.maxAbs.toExponential(2)}, relative ${d.relative.toExponential(2)}`);
    console.info(`native kernels, largest deviation from the cpu backend:\n  ${lines.join('\n  ')}`);
  });

  type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  const convCases: Array<{ n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: Pad; d?: number }> = [
    { n: 2, h: 9, w: 7, ci: 5, co: 6, k: 3, s: 1, pad: 'same' },
    { n: 3, h: 9, w: 8, ci: 4, co: 7, k: 3, s: 2, pad: 'same' },
    { n: 2, h: 10, w: 9, ci: 6, co: 5, k: 3, s: 2, pad: 'valid' },
    { n: 2, h: 8, w: 8, ci: 8, co: 12, k: 1, s: 1, pad: 'valid' },
    { n: 2, h: 8, w: 8, ci: 8, co: 4, k: 1, s: 2, pad: 'same' },
    { n: 2, h: 8, w: 8, ci: 4, co: 6, k: 3, s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
    { n: 1, h: 11, w: 6, ci: 3, co: 5, k: 5, s: 1, pad: 'valid' },
    { n: 2, h: 9, w: 9, ci: 4, co: 4, k: 3, s: 1, pad: 'same', d: 2 },
  ];
  // Plus random geometries (seeded): any kernel size 1-4, stride 1-2, either padding.
  const shapeRng = new SeededRandom(11);
  for (let i = 0; i < 4; i++) {
    const k = 1 + shapeRng.int(4);
    convCases.push({ n: 1 + shapeRng.int(3), h: k + 2 + shapeRng.int(8), w: k + 2 + shapeRng.int(8), ci: 1 + shapeRng.int(9), co: 1 + shapeRng.int(9), k, s: 1 + shapeRng.int(2), pad: shapeRng.int(2) ? 'same' : 'valid' });
  }

  for (const c of convCases) {
    const label = `conv ${JSON.stringify(c)}`;
    it(`Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter: ${label}`, async () => {
      const x = fixed([c.n, c.h, c.w, c.ci]);
      const w = fixed([c.k, c.k, c.ci, c.co]);
      await expectSame('Conv2D', label, () => tf.conv2d(x() as tf.Tensor4D, w() as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d ?? 1), 1e-5);
      if ((c.d ?? 1) === 1) {
        await expectSame('Conv2DBackprop', label, () => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad))));
          return g([x(), w()]);
        }, 2e-5);
      }
    });
  }

  it('FusedConv2D with bias and relu, and its gradients', async () => {
    const x = fixed([2, 8, 8, 6]);
    const w = fixed([3, 3, 6, 8]);
    const b = fixed([8]);
    for (const activation of ['linear', 'relu'] as const) {
      await expectSame('FusedConv2D', activation, () => tf.fused.conv2d({ x: x() as tf.Tensor4D, filter: w() as tf.Tensor4D, strides: 1, pad: 'same', bias: b(), activation }), 1e-5);
    }
    await expectSame('FusedConv2D', 'grads', () => {
      const g = tf.grads((a: tf.Tensor, f: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: bb }))));
      return g([x(), w(), b()]);
    }, 2e-5);
  });

  const matCases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [37, 50], b: [50, 41], ta: false, tb: false },
    { a: [50, 37], b: [50, 41], ta: true, tb: false },
    { a: [37, 50], b: [41, 50], ta: false, tb: true },
    { a: [50, 37], b: [41, 50], ta: true, tb: true },
    { a: [4, 16, 24], b: [4, 24, 20], ta: false, tb: false },
    { a: [4, 24, 16], b: [4, 20, 24], ta: true, tb: true },
    { a: [4, 16, 24], b: [24, 20], ta: false, tb: false },
    { a: [1, 16, 24], b: [3, 20, 24], ta: false, tb: true },
    { a: [2, 3, 16, 24], b: [2, 3, 24, 8], ta: false, tb: false },
  ];
  for (const c of matCases) {
    it(`BatchMatMul ${JSON.stringify(c)}`, async () => {
      const a = fixed(c.a);
      const b = fixed(c.b);
      await expectSame('BatchMatMul', JSON.stringify(c), () => tf.matMul(a(), b(), c.ta, c.tb), 1e-5);
    });
  }

  it('_FusedMatMul with bias and relu, and gradients through matMul', async () => {
    const a = fixed([64, 40]);
    const b = fixed([40, 48]);
    const bias = fixed([48]);
    await expectSame('_FusedMatMul', 'bias relu', () => tf.fused.matMul({ a: a() as tf.Tensor2D, b: b() as tf.Tensor2D, bias: bias(), activation: 'relu' }), 1e-5);
    await expectSame('BatchMatMul', 'grads', () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))))([a(), b()]), 2e-5);
  });

  const broadcastPairs: Array<[number[], number[]]> = [
    [[4, 8, 9, 16], [4, 8, 9, 16]],
    [[4, 8, 9, 16], [16]],
    [[16], [4, 8, 9, 16]],
    [[4, 8, 9, 16], [4, 1, 1, 16]],
    [[4, 1, 9, 1], [1, 8, 1, 16]],
    [[4, 72, 4, 4], [4, 1, 4, 1]],
    [[4, 8, 9, 16], []],
    [[], [4, 8, 9, 16]],
  ];
  for (const op of ['add', 'sub', 'mul', 'div', 'squaredDifference', 'maximum', 'minimum'] as const) {
    it(`binary ${op} with broadcasting`, async () => {
      for (const [sa, sb] of broadcastPairs) {
        const a = fixed(sa);
        const b = fixed(sb);
        // Keep divisors away from 0 so the comparison measures the kernel, not cancellation.
        const f = op === 'div' ? () => tf[op](a(), tf.add(tf.abs(b()), 0.5)) : () => tf[op](a(), b());
        await expectSame(op, `${op} [${sa}] [${sb}]`, f, 1e-6);
      }
    });
  }

  for (const op of ['neg', 'exp', 'sqrt', 'rsqrt', 'square', 'sigmoid', 'relu', 'abs', 'reciprocal'] as const) {
    it(`unary ${op}`, async () => {
      const x = fixed([4, 8, 9, 16]);
      const positive = op === 'sqrt' || op === 'rsqrt' || op === 'reciprocal';
      await expectSame(op, op, () => tf[op](positive ? tf.add(tf.abs(x()), 0.1) : tf.mul(x(), 4)), 2e-6);
    });
  }

  it('Sum, Mean, Max, Min over axis sets, with and without keepDims', async () => {
    const x = fixed([4, 6, 8, 12]);
    const axesList: Array<number | number[] | null> = [null, 0, 3, [1, 2], [0, 3], [1, 3], [0, 1, 2], [0, 2]];
    for (const axes of axesList) {
      for (const keepDims of [false, true]) {
        for (const op of ['sum', 'mean', 'max', 'min'] as const) {
          await expectSame(op, `${op} axes ${JSON.stringify(axes)} keepDims ${keepDims}`, () => tf[op](x(), axes ?? undefined, keepDims), 1e-6);
        }
      }
    }
  });

  it('Softmax over the last axis, and its gradient', async () => {
    const x = fixed([4, 16, 64]);
    await expectSame('Softmax', 'softmax', () => tf.softmax(tf.mul(x(), 3)), 1e-6);
    await expectSame('Softmax', 'grad', () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), a)))(x()), 1e-5);
  });

  it('Transpose with several permutations', async () => {
    const x = fixed([3, 5, 8, 7, 4]);
    for (const perm of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [0, 2, 1, 3, 4], [0, 3, 1, 2, 4], [1, 0, 2, 4, 3], [0, 1, 2, 4, 3]]) {
      await expectSame('Transpose', `perm ${perm}`, () => tf.transpose(x(), perm), 0);
    }
  });

  it('Slice (inner, outer and middle boxes), SplitV, Concat (each axis), PadV2, with gradients', async () => {
    const x = fixed([4, 9, 8, 24]);
    const boxes: Array<[number[], number[]]> = [
      [[0, 0, 0, 8], [4, 9, 8, 8]],
      [[1, 0, 0, 0], [2, 9, 8, 24]],
      [[0, 2, 1, 3], [4, 6, 6, 19]],
      [[0, 0, 0, 0], [4, 9, 8, 24]],
    ];
    for (const [begin, size] of boxes) {
      await expectSame('Slice', `begin ${begin} size ${size}`, () => tf.slice(x(), begin, size), 0);
    }
    const y = fixed([4, 9, 8, 16]);
    for (const axis of [0, 1, 2, 3]) {
      const shape = [4, 9, 8, 24].map((d, i) => (i === axis ? 5 : d));
      const z = fixed(shape);
      await expectSame('Concat', `axis ${axis}`, () => tf.concat([x(), z()], axis), 0);
    }
    await expectSame('Concat', 'channels of different widths', () => tf.concat([x(), y(), x()], 3), 0);
    for (const axis of [0, 2, 3]) {
      await expectSame('SplitV', `axis ${axis}`, () => tf.split(x(), axis === 3 ? [8, 4, 12] : 2, axis), 0);
    }
    await expectSame('PadV2', 'pad', () => tf.pad(x(), [[0, 1], [2, 0], [1, 1], [0, 3]], 0.5), 0);
    await expectSame('Concat', 'grads', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.slice(tf.concat([a, b], 3), [0, 1, 0, 4], [4, 7, 8, 30]))))([x(), y()]), 1e-6);
  });

  for (const silu of [false, true]) {
    it(`fused GroupNorm${silu ? ' + SiLU' : ''} forward and gradients match the composed ops on cpu`, async () => {
      const x = fixed([3, 6, 5, 32]);
      const gamma = fixed([32]);
      const beta = fixed([32]);
      const attrs = { groups: 8, epsilon: 1e-5, silu };
      await expectSame('GroupNorm', `silu ${silu}`, () => groupNorm(tf.add(tf.mul(x(), 2), 1), gamma() as tf.Tensor1D, beta() as tf.Tensor1D, attrs), 2e-6);
      await expectSame('GroupNorm grad', `silu ${silu}`, () => {
        const g = tf.grads((a: tf.Tensor, ga: tf.Tensor, be: tf.Tensor) => tf.sum(tf.mul(groupNorm(a, ga as tf.Tensor1D, be as tf.Tensor1D, attrs), a)));
        return g([x(), gamma(), beta()]);
      }, 1e-5);
    });
  }

  it('fused SiLU forward and gradient match x * sigmoid(x) on cpu', async () => {
    const x = fixed([4, 8, 9, 16]);
    await expectSame('SiLU', 'forward', () => silu(tf.mul(x(), 4)), 2e-6);
    await expectSame('SiLU grad', 'gradient', () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(silu(a), a)))(tf.mul(x(), 4)), 2e-6);
  });

  it('keeps memory flat: no tensors left after a training-like step', async () => {
    await useBackend('native');
    const x = normal([2, 8, 8, 8]);
    const w = tf.variable(normal([3, 3, 8, 8]));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sigmoid(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')))));
        w.assign(tf.sub(w, tf.mul(grads[w.name], 0.1)));
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
    await useBackend('cpu');
  });
});

describe.skipIf(notBuilt === null)('native kernels', () => {
  it(`are skipped: ${notBuilt}`, () => {
    // One clear line instead of failures when the addon is absent (see docs/native.md to build it).
    expect(notBuilt).toMatch(/native addon/);
  });
});
