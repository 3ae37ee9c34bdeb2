import { ShapeError } from '@adm/core';
import type { FeatureMatrix } from './feature-statistics.js';
import { float64Distances, type PairwiseDistanceEngine } from './pairwise-distances.js';

export interface ManifoldOptions {
  /** Neighbourhood sizes; the paper and evaluator use [3]. */
  nhoodSizes?: readonly number[];
  /** Block sizes of the distance computation (do not change results). */
  rowBatchSize?: number;
  colBatchSize?: number;
  engine?: PairwiseDistanceEngine;
}

export interface PrecisionRecall {
  /** Fraction of samples inside the reference manifold, per neighbourhood size. */
  precision: number[];
  /** Fraction of reference points inside the sample manifold, per neighbourhood size. */
  recall: number[];
  /** [count x nhoods] float32 radii of each set. */
  radiiRef: Float32Array;
  radiiSample: Float32Array;
  /** [sample count x nhoods] 1 when the sample is inside the reference manifold. */
  sampleInRef: Uint8Array;
  /** [ref count x nhoods] 1 when the reference point is inside the sample manifold. */
  refInSample: Uint8Array;
}

const DEFAULT_BATCH = 2048;

/**
 * Radius of each point's k-neighbourhood (improved precision/recall, Kynkaanniemi et al.
 * 2019): the entry at index k of its sorted float32 squared distances to every point of its
 * own set, itself included (so the k-th nearest OTHER point; duplicates count at distance 0).
 * Returns [count x nhoods].
 */
export async function manifoldRadii(f: FeatureMatrix, opts: ManifoldOptions = {}): Promise<Float32Array> {
  const nhoods = opts.nhoodSizes ?? [3];
  const kmax = Math.max(...nhoods);
  if (f.count <= kmax) throw new ShapeError(`precision/recall with k=${kmax} needs more than ${kmax} feature vectors per set, got ${f.count}`);
  const engine = opts.engine ?? float64Distances;
  const rb = opts.rowBatchSize ?? DEFAULT_BATCH;
  const cb = opts.colBatchSize ?? DEFAULT_BATCH;
  const keep = kmax + 1;
  const radii = new Float32Array(f.count * nhoods.length);
  const smallest = new Float32Array(keep);
  for (let r0 = 0; r0 < f.count; r0 += rb) {
    const r1 = Math.min(f.count, r0 + rb);
    // The k+1 smallest distances of every row of the block, sorted ascending.
    const best = new Float32Array((r1 - r0) * keep).fill(Infinity);
    for (let c0 = 0; c0 < f.count; c0 += cb) {
      const c1 = Math.min(f.count, c0 + cb);
      const dist = await engine.block(f, r0, r1, f, c0, c1);
      const cols = c1 - c0;
      for (let i = 0; i < r1 - r0; i++) {
        const off = i * keep;
        for (let j = 0; j < cols; j++) {
          const v = dist[i * cols + j];
          if (v >= best[off + keep - 1]) continue;
          let p = keep - 1;
          while (p > 0 && best[off + p - 1] > v) {
            best[off + p] = best[off + p - 1];
            p--;
          }
          best[off + p] = v;
        }
      }
    }
    for (let i = 0; i < r1 - r0; i++) {
      smallest.set(best.subarray(i * keep, (i + 1) * keep));
      for (let h = 0; h < nhoods.length; h++) radii[(r0 + i) * nhoods.length + h] = smallest[nhoods[h]];
    }
  }
  return radii;
}

/**
 * Improved precision and recall between reference and sample features, as the evaluator's
 * ManifoldEstimator.evaluate_pr: a point is inside the other set's manifold when its float32
 * squared distance to some point of that set is <= that point's radius (ties are inside).
 */
export async function precisionRecall(ref: FeatureMatrix, sample: FeatureMatrix, opts: ManifoldOptions = {}): Promise<PrecisionRecall> {
  if (ref.dim !== sample.dim) throw new ShapeError(`precision/recall: reference features have ${ref.dim} dimensions, samples ${sample.dim}`);
  const nhoods = opts.nhoodSizes ?? [3];
  const radiiRef = await manifoldRadii(ref, opts);
  const radiiSample = await manifoldRadii(sample, opts);
  const engine = opts.engine ?? float64Distances;
  const rb = opts.rowBatchSize ?? DEFAULT_BATCH;
  const cb = opts.colBatchSize ?? DEFAULT_BATCH;
  const h = nhoods.length;
  const refIn = new Uint8Array(ref.count * h);
  const sampleIn = new Uint8Array(sample.count * h);
  for (let r0 = 0; r0 < ref.count; r0 += rb) {
    const r1 = Math.min(ref.count, r0 + rb);
    for (let c0 = 0; c0 < sample.count; c0 += cb) {
      const c1 = Math.min(sample.count, c0 + cb);
      const dist = await engine.block(ref, r0, r1, sample, c0, c1);
      const cols = c1 - c0;
      for (let i = r0; i < r1; i++) {
        for (let j = c0; j < c1; j++) {
          const v = dist[(i - r0) * cols + (j - c0)];
          for (let q = 0; q < h; q++) {
            if (v <= radiiSample[j * h + q]) refIn[i * h + q] = 1;
            if (v <= radiiRef[i * h + q]) sampleIn[j * h + q] = 1;
          }
        }
      }
    }
  }
  const fraction = (flags: Uint8Array, n: number, q: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += flags[i * h + q];
    return s / n;
  };
  return {
    precision: nhoods.map((_, q) => fraction(sampleIn, sample.count, q)),
    recall: nhoods.map((_, q) => fraction(refIn, ref.count, q)),
    radiiRef,
    radiiSample,
    sampleInRef: sampleIn,
    refInSample: refIn,
  };
}
