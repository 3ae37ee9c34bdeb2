import * as tf from '@tensorflow/tfjs';
import { featureMatrix, type FeatureMatrix } from '../feature-statistics.js';
import { type ImageBatch, sliceImages } from '../image-batch.js';
import type { FidInceptionV3 } from './fid-inception.js';
import type { InceptionPreprocessing } from './inception-preprocessing.js';

/** Everything the metrics need from one image set. */
export interface InceptionFeatures {
  /** [N x 2048] pool_3 */
  pool: FeatureMatrix;
  /** [N x 17*17*7] mixed_6/conv[..., :7] flattened in H, W, C order */
  spatial: FeatureMatrix;
  /** [N x 1008] pool_3 @ W (no bias): the evaluator's Inception Score logits */
  logits: Float32Array;
  classes: number;
}

export interface ExtractOptions {
  preprocessing: InceptionPreprocessing;
  /** Images per forward pass (the evaluator uses 64). */
  batchSize?: number;
  /** Called after every batch with images done and total. */
  onProgress?: (done: number, total: number) => void;
}

/** Run the FID Inception over a batch of images, batch by batch, tensors disposed as it goes. */
export async function extractFeatures(net: FidInceptionV3, images: ImageBatch, opts: ExtractOptions): Promise<InceptionFeatures> {
  const n = images.count;
  const bs = Math.max(1, opts.batchSize ?? 64);
  let pool: Float32Array | undefined;
  let spatial: Float32Array | undefined;
  let logits: Float32Array | undefined;
  let poolDim = 0;
  let spatialDim = 0;
  let classes = 0;
  for (let start = 0; start < n; start += bs) {
    const part = sliceImages(images, start, Math.min(n, start + bs));
    const shape: [number, number, number, number] = [part.count, part.height, part.width, 3];
    const x = part.pixels instanceof Uint8Array ? tf.tensor4d(Int32Array.from(part.pixels), shape, 'int32') : tf.tensor4d(part.pixels, shape, 'float32');
    const out = net.run(x, opts.preprocessing);
    x.dispose();
    try {
      const [p, s, l] = await Promise.all([out.pool3.data(), out.spatial.data(), out.logitsNoBias.data()]);
      if (!pool) {
        poolDim = out.pool3.shape[1];
        spatialDim = out.spatial.shape[1] * out.spatial.shape[2] * out.spatial.shape[3];
        classes = out.logitsNoBias.shape[1];
        pool = new Float32Array(n * poolDim);
        spatial = new Float32Array(n * spatialDim);
        logits = new Float32Array(n * classes);
      }
      pool.set(p as Float32Array, start * poolDim);
      spatial!.set(s as Float32Array, start * spatialDim);
      logits!.set(l as Float32Array, start * classes);
    } finally {
      tf.dispose([out.pool3, out.logits, out.logitsNoBias, out.spatial]);
    }
    opts.onProgress?.(start + part.count, n);
  }
  if (!pool) throw new RangeError(`${images.source}: no images to extract features from`);
  return {
    pool: featureMatrix(pool, n, poolDim, 'pool_3'),
    spatial: featureMatrix(spatial!, n, spatialDim, 'mixed_6/conv'),
    logits: logits!,
    classes,
  };
}
