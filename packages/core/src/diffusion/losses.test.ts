import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { approxStandardNormalCdf, discretizedGaussianLogLikelihood, meanFlat, normalKl, saturatingTanh, stopGradient, TANH_SATURATION } from './losses.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Standard normal CDF through erf (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return 0.5 * (1 + Math.sign(x) * erf);
}

describe('likelihood helpers', () => {
  it('normalKl is the closed form and zero for equal Gaussians', () => {
    const m1 = tf.tensor1d([0, 1, -2]);
    const l1 = tf.tensor1d([0, -1, 0.5]);
    const m2 = tf.tensor1d([0, 0.5, -2]);
    const l2 = tf.tensor1d([0, 0.3, 0.5]);
    const kl = normalKl(m1, l1, m2, l2).dataSync();
    const expected = [0, 1, 2].map((i) => {
      const [a, b, c, d] = [[0, 1, -2][i], [0, -1, 0.5][i], [0, 0.5, -2][i], [0, 0.3, 0.5][i]];
      const v1 = Math.exp(b);
      const v2 = Math.exp(d);
      return Math.log(Math.sqrt(v2) / Math.sqrt(v1)) + (v1 + (a - c) ** 2) / (2 * v2) - 0.5;
    });
    for (let i = 0; i < 3; i++) expect(kl[i]).toBeCloseTo(expected[i], 6);
    expect(kl[0]).toBe(0);
    tf.dispose([m1, l1, m2, l2]);
  });

  it('approxStandardNormalCdf is within 1e-3 of the normal CDF', () => {
    const xs = Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);
    const c = tf.tidy(() => approxStandardNormalCdf(tf.tensor1d(xs)).dataSync());
    xs.forEach((x, i) => expect(Math.abs(c[i] - phi(x))).toBeLessThan(1e-3));
  });

  it('saturatingTanh is exactly +-1 beyond SLEEF\'s threshold, tanh inside, with tanh\'s gradient', () => {
    const x = tf.tensor1d([-8.9636, -8.6, 0.3, 8.7, 9.5]);
    const y = saturatingTanh(x).dataSync();
    expect(y[0]).toBe(-1);
    expect(y[3]).toBe(1);
    expect(y[1]).toBe(Math.fround(Math.tanh(Math.fround(-8.6))));
    expect(y[2]).toBe(Math.fround(Math.tanh(Math.fround(0.3))));
    // tf.tanh rounds tanh(-8.9636) to -1 + 2^-24, which is why the helper exists
    expect(tf.tidy(() => tf.tanh(tf.scalar(-8.9636)).dataSync()[0])).toBe(-1 + 2 ** -24);
    expect(TANH_SATURATION).toBe(Math.fround(8.664339742));
    const g = tf.grad((a: tf.Tensor) => tf.sum(saturatingTanh(a)))(x).dataSync();
    expect(g[2]).toBeCloseTo(1 - Math.tanh(0.3) ** 2, 6);
    expect(g[0]).toBe(0);
    x.dispose();
  });

  it('discretizedGaussianLogLikelihood: the 256 bin probabilities sum to 1 (open edge bins)', () => {
    const grid = Array.from({ length: 256 }, (_, k) => k / 127.5 - 1);
    for (const [mean, logScale] of [[0.1, Math.log(0.3)], [-0.95, Math.log(0.05)], [0.5, Math.log(2)]]) {
      const lp = tf.tidy(() =>
        discretizedGaussianLogLikelihood(tf.tensor1d(grid), tf.fill([256], mean), tf.fill([256], logScale)).dataSync(),
      );
      const total = Array.from(lp).reduce((s, v) => s + Math.exp(v), 0);
      expect(Math.abs(total - 1)).toBeLessThan(1e-4);
    }
  });

  it('meanFlat averages all but the batch axis; stopGradient blocks the gradient', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    expect(Array.from(meanFlat(x).dataSync())).toEqual([2.5, 6.5]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.add(stopGradient(tf.mul(a, 3)), a)))(x).dataSync();
    expect(Array.from(g)).toEqual(new Array(8).fill(1));
    x.dispose();
  });
});
