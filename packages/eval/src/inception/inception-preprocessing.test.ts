import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, useBackend } from '@adm/core';
import { bilinearResizeMatrix, resizeBilinearSeparable } from './inception-preprocessing.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('separable bilinear resize', () => {
  for (const halfPixel of [false, true]) {
    it(`matches tfjs' cpu resizeBilinear (halfPixelCenters=${halfPixel}) up and down`, () => {
      const rng = new SeededRandom(3);
      const x = tf.tensor4d(rng.uniform(2 * 7 * 5 * 3).map((v) => v * 255), [2, 7, 5, 3]);
      for (const [h, w] of [[13, 11], [4, 3], [7, 5]]) {
        const mine = resizeBilinearSeparable(x, h, w, halfPixel);
        const theirs = tf.image.resizeBilinear(x, [h, w], false, halfPixel);
        const diff = tf.max(tf.abs(tf.sub(mine, theirs))).dataSync()[0];
        expect(diff).toBeLessThan(3e-4); // 255 * float32 rounding of interpolation weights
        tf.dispose([mine, theirs]);
      }
      x.dispose();
    });
  }

  it('has rows summing to one and is the identity at equal size', () => {
    const m = bilinearResizeMatrix(64, 299, true);
    for (let o = 0; o < 299; o++) {
      let s = 0;
      for (let i = 0; i < 64; i++) s += m[o * 64 + i];
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
    for (const hp of [true, false]) {
      const id = bilinearResizeMatrix(5, 5, hp);
      expect([...id]).toEqual([...tf.eye(5).dataSync()]);
    }
  });
});
