// The wasm AdmGroupNorm kernels against the tf-ops GroupNorm formula on the cpu backend (pure
// JS, the reference): outputs, saved statistics, and gradients through tf.grads.
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, SeededRandom, ShapeError, useBackend, type GroupNormAttrs } from '@adm/core';
import '../index.js';
import { expectClose } from './expect-close.js';

const rng = new SeededRandom(4321);

interface Case {
  shape: number[];
  groups: number;
  silu: boolean;
  /** Added to x: a mean far from 0 tests the two-pass variance. */
  offset: number;
}

interface Host {
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  weights: Float32Array;
}

/** y = GN(x) * gamma + beta (then SiLU) from tf ops, as in guided-diffusion's normalization(). */
function groupNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number, epsilon: number, silu: boolean): tf.Tensor {
  const c = x.shape[x.shape.length - 1];
  const xr = tf.reshape(x, [x.shape[0], -1, groups, c / groups]);
  const { mean, variance } = tf.moments(xr, [1, 3], true);
  const xhat = tf.reshape(tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, epsilon))), x.shape);
  const y = tf.add(tf.mul(xhat, gamma), beta);
  return silu ? tf.mul(y, tf.sigmoid(y)) : y;
}

function fusedGroupNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, attrs: GroupNormAttrs): tf.Tensor[] {
  return tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

/** y, the statistics ([batch, groups]) and d sum(y * weights) / d (x, gamma, beta), as host arrays. */
function evaluate(c: Case, h: Host, fused: boolean): Record<string, Float32Array> {
  const epsilon = 1e-5;
  const channels = c.shape[c.shape.length - 1];
  return tf.tidy(() => {
    const x = tf.tensor(h.x, c.shape);
    const gamma = tf.tensor1d(h.gamma);
    const beta = tf.tensor1d(h.beta);
    const w = tf.tensor(h.weights, c.shape);
    const attrs = { groups: c.groups, epsilon, silu: c.silu };
    const forward = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => (fused ? fusedGroupNorm(xi, g, b, attrs)[0] : groupNormOps(xi, g, b, c.groups, epsilon, c.silu));
    let stats: tf.Tensor[];
    if (fused) {
      stats = fusedGroupNorm(x, gamma, beta, attrs).slice(1);
    } else {
      const { mean, variance } = tf.moments(tf.reshape(x, [c.shape[0], -1, c.groups, channels / c.groups]), [1, 3]);
      stats = [mean, tf.rsqrt(tf.add(variance, epsilon))];
    }
    const y = forward(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(xi, g, b), w)))([x, gamma, beta]);
    const host = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
    return { y: host(y), mean: host(stats[0]), rstd: host(stats[1]), dx: host(dx), dgamma: host(dgamma), dbeta: host(dbeta) };
  });
}

const close = (actual: Float32Array, expected: Float32Array, what: string, rel = 1e-5) => expectClose(actual, expected, what, rel);

function randomHost(c: Case): Host {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const channels = c.shape[c.shape.length - 1];
  const x = rng.normal(size).map((v) => 2 * v + c.offset);
  const gamma = rng.normal(channels).map((v) => 1 + 0.5 * v);
  return { x, gamma, beta: rng.normal(channels), weights: rng.normal(size) };
}

describe('wasm AdmGroupNorm vs the tf-ops formula on cpu', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm')).toBeDefined();
    expect(tf.getKernel(GROUP_NORM_GRAD_KERNEL, 'wasm')).toBeDefined();
    expect(tf.getGradient(GROUP_NORM_KERNEL)).toBeDefined();
  });

  // Groups hold >= 4 values: in a group of 2, xhat is +-1 up to epsilon and dx is a 1e5-fold
  // cancellation that a float32 reference cannot resolve to 1e-5.
  const cases: Case[] = [
    { shape: [3, 256], groups: 32, silu: false, offset: 0 },
    { shape: [2, 5, 96], groups: 32, silu: true, offset: 0 },
    { shape: [2, 4, 3, 64], groups: 32, silu: true, offset: 0 },
    { shape: [2, 4, 3, 64], groups: 32, silu: false, offset: 20 },
    { shape: [1, 3, 3, 12], groups: 4, silu: true, offset: -3 },
    { shape: [2, 6, 10], groups: 1, silu: true, offset: 0 },
    { shape: [2, 2, 2, 6], groups: 6, silu: false, offset: 1 },
  ];
  for (const c of cases) {
    it(`[${c.shape.join(', ')}] groups ${c.groups}${c.silu ? ' + SiLU' : ''}${c.offset ? ` offset ${c.offset}` : ''}`, async () => {
      const h = randomHost(c);
      await useBackend('cpu');
      const expected = evaluate(c, h, false);
      await useBackend('wasm');
      const actual = evaluate(c, h, true);
      for (const name of ['y', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta']) close(actual[name], expected[name], name);
    });
  }

  it('rejects channels that are not a multiple of groups, int32 x and mis-shaped statistics', async () => {
    await useBackend('wasm');
    const gamma = tf.ones([10]);
    const beta = tf.zeros([10]);
    const x = tf.zeros([2, 3, 10]);
    const xi = tf.zeros([2, 3, 10], 'int32');
    const attrs = { groups: 4, epsilon: 1e-5, silu: true };
    expect(() => fusedGroupNorm(x, gamma, beta, attrs)).toThrow(ShapeError);
    expect(() => fusedGroupNorm(x, gamma, beta, attrs)).toThrow(/AdmGroupNorm input x: .*multiple of 4 groups, got float32 \[2, 3, 10\]/);
    expect(() => fusedGroupNorm(xi, gamma, beta, { ...attrs, groups: 5 })).toThrow(/AdmGroupNorm input x: expected a float32 tensor, got int32/);
    expect(() => fusedGroupNorm(x, tf.ones([5]), beta, { ...attrs, groups: 5 })).toThrow(/AdmGroupNorm input gamma: expected a float32 tensor of shape \[10\], got float32 \[5\]/);
    const stat = tf.zeros([2, 2]);
    expect(() => tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy: x, x, gamma, beta, mean: stat, rstd: stat }, { ...attrs, groups: 5 })).toThrow(
      /AdmGroupNormGrad input mean: expected a float32 tensor of shape \[2, 5\], got float32 \[2, 2\]/,
    );
    tf.dispose([gamma, beta, x, xi, stat]);
  });

  it('frees everything it allocates over repeated forward + backward calls', async () => {
    await useBackend('wasm');
    const c: Case = { shape: [2, 4, 4, 64], groups: 32, silu: true, offset: 0 };
    const h = randomHost(c);
    evaluate(c, h, true);
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) evaluate(c, h, true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(dataIds);
  });
});
