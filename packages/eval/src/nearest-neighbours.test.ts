import { describe, expect, it } from 'vitest';
import { featureMatrix } from './feature-statistics.js';
import { nearestNeighbours, nearestNeighbourGrid } from './nearest-neighbours.js';

describe('nearestNeighbours', () => {
  it('orders reference points by squared distance, ties to the lower index, across blocks', async () => {
    const ref = featureMatrix(Float32Array.of(0, 5, 1, 3, 1, -2), 6, 1);
    const q = featureMatrix(Float32Array.of(1, 4), 2, 1);
    const nn = await nearestNeighbours(q, ref, 3, { colBatchSize: 4 });
    expect([...nn.indices]).toEqual([2, 4, 0, 1, 3, 2]);
    expect([...nn.distances]).toEqual([0, 0, 1, 1, 1, 9]);
  });

  it('builds one grid row per chosen sample', () => {
    const px = (v: number) => new Uint8Array(2 * 2 * 3).fill(v);
    const batch = (vals: number[]) => ({ pixels: Uint8Array.from(vals.flatMap((v) => [...px(v)])), count: vals.length, height: 2, width: 2, source: 'm' });
    const grid = nearestNeighbourGrid(batch([10, 20]), [1], batch([1, 2, 3]), { indices: Int32Array.of(2, 0), distances: new Float32Array(2), k: 2 });
    expect([grid.width, grid.height]).toEqual([3 * 2 + 4 * 2, 2 + 2 * 2]);
    const at = (x: number) => grid.data[(2 * grid.width + x) * 3];
    expect([at(2), at(6), at(10)]).toEqual([20, 3, 1]);
  });
});
