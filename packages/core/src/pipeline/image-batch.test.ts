import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { concatImages, fromUint8Images, imageGrid, toUint8Images } from './image-batch.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('image batches', () => {
  it('maps [-1, 1] to uint8 as ((x + 1) * 127.5).clamp(0, 255) truncated, and back as x / 127.5 - 1', () => {
    const x = tf.tensor4d([-1.5, -1, -0.999, 0, 0.5, 0.999, 1, 2], [1, 2, 4, 1]);
    // (x + 1) * 127.5 = [-63.75, 0, 0.1275, 127.5, 191.25, 254.87, 255, 382.5]
    const u = toUint8Images(x);
    expect(Array.from(u.data)).toEqual([0, 0, 0, 127, 191, 254, 255, 255]);
    expect(u.shape).toEqual([1, 2, 4, 1]);
    const back = fromUint8Images(u);
    expect(Array.from(back.dataSync())).toEqual(Array.from(u.data, (v) => Math.fround(Math.fround(v / 127.5) - 1)));
    tf.dispose([x, back]);
  });

  it('lays images out in a padded grid and concatenates batches', () => {
    const a = { data: Uint8Array.from([1, 2, 3, 4]), shape: [1, 2, 2, 1] as [number, number, number, number] };
    const b = { data: Uint8Array.from([5, 6, 7, 8, 9, 10, 11, 12]), shape: [2, 2, 2, 1] as [number, number, number, number] };
    const all = concatImages([a, b]);
    expect(all.shape).toEqual([3, 2, 2, 1]);
    const g = imageGrid(all, 2, 1, 0);
    expect([g.width, g.height, g.channels]).toEqual([7, 7, 1]);
    const rows = Array.from({ length: 7 }, (_, y) => Array.from(g.data.subarray(y * 7, y * 7 + 7)));
    expect(rows).toEqual([
      [0, 0, 0, 0, 0, 0, 0],
      [0, 1, 2, 0, 5, 6, 0],
      [0, 3, 4, 0, 7, 8, 0],
      [0, 0, 0, 0, 0, 0, 0],
      [0, 9, 10, 0, 0, 0, 0],
      [0, 11, 12, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0],
    ]);
  });
});
