import { ConfigError, SeededRandom } from '@adm/core';

/** One batch: images NHWC float32 in [-1, 1], labels int32 when the data is labelled. */
export interface ImageBatch {
  x: Float32Array;
  y?: Int32Array;
  shape: [number, number, number, number];
}

/** A finite set of square images with optional class labels. */
export interface ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly imageSize: number;
  readonly channels: number;
  /** Number of classes when labelled. */
  readonly numClasses?: number;
  /** The images (and labels) at `indices`. */
  batch(indices: ArrayLike<number>): ImageBatch;
}

/** uint8 pixel k -> k / 127.5 - 1, the grid guided-diffusion's image_datasets produces. */
export function uint8ToUnit(k: number): number {
  return k / 127.5 - 1;
}

/** Mix a seed and a counter into a 32-bit seed (splitmix-style finaliser). */
export function mixSeed(seed: number, counter: number, salt = 0): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((counter + 1) >>> 0, 0x85ebca6b) ^ Math.imul(salt + 0x27d4eb2f, 0xc2b2ae35)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Which examples each step sees: a fresh shuffle per epoch, seeded by (seed, epoch), read
 * in consecutive slices. A pure function of (seed, step), so a resumed run sees exactly
 * the batches an uninterrupted run would.
 */
export class BatchOrder {
  private cachedEpoch = -1;
  private perm = new Int32Array(0);

  constructor(
    readonly length: number,
    readonly seed: number,
    readonly shuffle = true,
  ) {
    if (!(length > 0)) throw new ConfigError('dataset', 'holds no examples');
  }

  private permutation(epoch: number): Int32Array {
    if (epoch !== this.cachedEpoch) {
      const p = new Int32Array(this.length);
      for (let i = 0; i < p.length; i++) p[i] = i;
      if (this.shuffle) {
        const r = new SeededRandom(mixSeed(this.seed, epoch, 1));
        for (let i = p.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          const tmp = p[i];
          p[i] = p[j];
          p[j] = tmp;
        }
      }
      this.perm = p;
      this.cachedEpoch = epoch;
    }
    return this.perm;
  }

  /** Example indices of batch number `step` (0-based) of size `batchSize`. */
  indices(step: number, batchSize: number): Int32Array {
    const out = new Int32Array(batchSize);
    let pos = step * batchSize;
    for (let i = 0; i < batchSize; i++, pos++) {
      const epoch = Math.floor(pos / this.length);
      out[i] = this.permutation(epoch)[pos - epoch * this.length];
    }
    return out;
  }
}
