import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, useBackend } from '@adm/core';
import { featureMatrix } from './feature-statistics.js';
import { float64Distances, tfDistances } from './pairwise-distances.js';
import { manifoldRadii, precisionRecall } from './precision-recall.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('improved precision/recall', () => {
  it('uses the 3rd nearest other point as radius and counts ties as inside', async () => {
    // Points on a line at 0, 1, 2, 3, 10: squared distances to the 3rd nearest other point.
    const real = featureMatrix(Float32Array.of(0, 1, 2, 3, 10), 5, 1);
    const radii = await manifoldRadii(real);
    expect([...radii]).toEqual([9, 4, 4, 9, 81]);
    // Fake points: 3 is exactly on real[0]'s sphere edge (d=9 <= 9) and others.
    const fake = featureMatrix(Float32Array.of(-3, -3.5, 20, 30, 40), 5, 1);
    const r = await precisionRecall(real, fake);
    // -3: d to 0 is 9 <= 9 inside; -3.5: 12.25 > 9 and > others; 20: d to 10 is 100 > 81; 30, 40 outside.
    expect([...r.sampleInRef]).toEqual([1, 0, 0, 0, 0]);
    expect(r.precision[0]).toBeCloseTo(1 / 5, 15);
  });

  it('gives the same answer for every block size and for the tf engine', async () => {
    const rng = new SeededRandom(5);
    const real = featureMatrix(rng.normal(60 * 6), 60, 6);
    const fakeVals = rng.normal(50 * 6).map((v) => 0.7 * v + 0.3);
    const fake = featureMatrix(fakeVals, 50, 6);
    const ref = await precisionRecall(real, fake, { rowBatchSize: 1000, colBatchSize: 1000 });
    for (const [rb, cb] of [[7, 13], [1, 50], [64, 3]]) {
      const r = await precisionRecall(real, fake, { rowBatchSize: rb, colBatchSize: cb, engine: float64Distances });
      expect(r.precision).toEqual(ref.precision);
      expect(r.recall).toEqual(ref.recall);
    }
    const before = tf.memory().numTensors;
    const t = await precisionRecall(real, fake, { rowBatchSize: 17, colBatchSize: 23, engine: tfDistances });
    expect(tf.memory().numTensors).toBe(before);
    expect(t.precision).toEqual(ref.precision);
    expect(t.recall).toEqual(ref.recall);
  });
});
