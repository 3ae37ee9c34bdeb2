import * as tf from '@tensorflow/tfjs';
import { GaussianDiffusion, useBackend } from '@adm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassifierTrainLoop, crossEntropy, topKHits } from './classifier-train-loop.js';
import { NpzDataset } from './npz-dataset.js';
import { linearTestSchedule, TinyClassifier, toyImages } from './train-test-utils.js';

const SIZE = 8;

function setup(seed: number, extra: Partial<ConstructorParameters<typeof ClassifierTrainLoop>[0]> = {}) {
  const { images, labels } = toyImages(16, SIZE, 1, 4);
  const data = new NpzDataset('toy', { dtype: 'F32', shape: [16, SIZE, SIZE, 1], data: images }, { dtype: 'I32', shape: [16], data: labels });
  const classifier = new TinyClassifier(SIZE, 1, 4, seed);
  const diffusion = new GaussianDiffusion({ schedule: linearTestSchedule(20), modelMeanType: 'epsilon', modelVarType: 'fixed_large', lossType: 'mse' });
  const loop = new ClassifierTrainLoop({ classifier, diffusion, data, batchSize: 8, lr: 3e-2, weightDecay: 0.05, seed: 5, ...extra });
  return { loop, classifier, data };
}

describe('ClassifierTrainLoop', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('cross-entropy and top-k follow their definitions', () => {
    const logits = tf.tensor2d([
      [2, 1, 0],
      [0, 0, 3],
    ]);
    const y = tf.tensor1d([1, 2], 'int32');
    const ce = crossEntropy(logits as tf.Tensor2D, y);
    const lse0 = Math.log(Math.exp(2) + Math.exp(1) + 1);
    const lse1 = Math.log(2 + Math.exp(3));
    const got = ce.dataSync();
    expect(got[0]).toBeCloseTo(lse0 - 1, 5);
    expect(got[1]).toBeCloseTo(lse1 - 3, 5);
    expect(Array.from(topKHits([2, 1, 0, 0, 0, 3], 3, [1, 2], 1))).toEqual([0, 1]);
    expect(Array.from(topKHits([2, 1, 0, 0, 0, 3], 3, [1, 2], 2))).toEqual([1, 1]);
    tf.dispose([logits, y, ce]);
  });

  it('reduces the clean-image loss and keeps memory flat', () => {
    const { loop, classifier, data } = setup(1, { noised: false, microbatch: 4 });
    const batch = data.batch(Array.from({ length: 16 }, (_, i) => i));
    const evalLoss = () =>
      tf.tidy(() => tf.mean(crossEntropy(classifier.apply(tf.tensor4d(batch.x, batch.shape), tf.zeros([16])), tf.tensor1d(batch.y!, 'int32'))).dataSync()[0]);
    const before = evalLoss();
    loop.runStep();
    loop.runStep();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 28; i++) loop.runStep();
    expect(tf.memory().numTensors).toBe(n);
    expect(evalLoss()).toBeLessThan(0.7 * before);
    loop.dispose();
    classifier.dispose();
  });

  it('anneals the lr linearly over the iterations (set before each step)', () => {
    const { loop, classifier } = setup(2, { annealLr: true, iterations: 4 });
    const lrs = [0, 1, 2].map(() => loop.runStep().lr);
    expect(lrs).toEqual([3e-2, 3e-2 * 0.75, 3e-2 * 0.5]);
    loop.dispose();
    classifier.dispose();
  });
});
