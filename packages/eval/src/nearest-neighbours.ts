import { ShapeError } from '@adm/core';
import type { FeatureMatrix } from './feature-statistics.js';
import { type ImageBatch, imageAt } from './image-batch.js';
import { imageGrid } from './image-grid.js';
import { float64Distances, type PairwiseDistanceEngine } from './pairwise-distances.js';
import type { RgbImage } from './png.js';

export interface NearestNeighbours {
  /** [queries x k] reference indices, nearest first */
  indices: Int32Array;
  /** [queries x k] squared feature distances */
  distances: Float32Array;
  k: number;
}

/**
 * The k nearest reference points of each query in feature space (squared euclidean, ties
 * to the lower index): the paper's Appendix C memorisation check on Inception features.
 */
export async function nearestNeighbours(
  queries: FeatureMatrix,
  ref: FeatureMatrix,
  k: number,
  opts: { engine?: PairwiseDistanceEngine; colBatchSize?: number } = {},
): Promise<NearestNeighbours> {
  if (queries.dim !== ref.dim) throw new ShapeError(`nearest neighbours: query features have ${queries.dim} dimensions, reference ${ref.dim}`);
  const kk = Math.min(k, ref.count);
  const engine = opts.engine ?? float64Distances;
  const cb = opts.colBatchSize ?? 2048;
  const q = queries.count;
  const best = new Float32Array(q * kk).fill(Infinity);
  const idx = new Int32Array(q * kk).fill(-1);
  for (let c0 = 0; c0 < ref.count; c0 += cb) {
    const c1 = Math.min(ref.count, c0 + cb);
    const d = await engine.block(queries, 0, q, ref, c0, c1);
    for (let i = 0; i < q; i++) {
      const off = i * kk;
      for (let j = c0; j < c1; j++) {
        const v = d[i * (c1 - c0) + j - c0];
        if (!(v < best[off + kk - 1])) continue;
        let p = kk - 1;
        while (p > 0 && best[off + p - 1] > v) {
          best[off + p] = best[off + p - 1];
          idx[off + p] = idx[off + p - 1];
          p--;
        }
        best[off + p] = v;
        idx[off + p] = j;
      }
    }
  }
  return { indices: idx, distances: best, k: kk };
}

/** One row per chosen sample: the sample, then its nearest reference images. */
export function nearestNeighbourGrid(samples: ImageBatch, chosen: readonly number[], ref: ImageBatch, nn: NearestNeighbours): RgbImage {
  if (samples.height !== ref.height || samples.width !== ref.width) {
    throw new ShapeError(`nearest-neighbour grid: samples are ${samples.width}x${samples.height} but reference images ${ref.width}x${ref.height}`);
  }
  const rows = chosen.map((s, r) => [imageAt(samples, s), ...Array.from(nn.indices.subarray(r * nn.k, (r + 1) * nn.k)).map((j) => imageAt(ref, j))]);
  return imageGrid(rows, samples.height, samples.width);
}
