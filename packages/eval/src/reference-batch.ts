import { type HostTensor, TensorFileError, parseNpz, readFileBytes, toFloat64, writeFileAtomic } from '@adm/core';
import type { FeatureStatistics } from './feature-statistics.js';
import { type ImageBatch, imageBatchFromTensor, readImageFolder } from './image-batch.js';
import { serializeNpzFile } from './npz-writer.js';

/**
 * A batch in guided-diffusion's evaluator format: `arr_0` uint8 [N, H, W, 3] and, for
 * precomputed reference batches, `mu`/`sigma` (pool_3) and `mu_s`/`sigma_s` (spatial)
 * float64 statistics. Either part may be absent here; the evaluator needs arr_0 always
 * (precision/recall uses the reference images' features) and uses the statistics when present.
 */
export interface EvaluatorBatch {
  images?: ImageBatch;
  pool?: FeatureStatistics;
  spatial?: FeatureStatistics;
}

/** Read an evaluator .npz (stored or compressed) or a folder of PNGs. */
export async function readEvaluatorBatch(path: string): Promise<EvaluatorBatch> {
  const fs = await import('node:fs/promises');
  const st = await fs.stat(path).catch(() => undefined);
  if (!st) throw new TensorFileError(path, 'not found (expected an evaluator .npz or a folder of .png images)');
  if (st.isDirectory()) return { images: await readImageFolder(path) };
  const arrays = parseNpz(await readFileBytes(path), path);
  if (arrays.size === 0) throw new TensorFileError(path, 'no arrays in the .npz (expected arr_0 with the images)');
  const out: EvaluatorBatch = {};
  const arr0 = arrays.get('arr_0');
  if (arr0) {
    out.images = imageBatchFromTensor(arr0, path);
    if (out.images.count === 0) throw new TensorFileError(path, 'arr_0 holds no images', 'arr_0');
  }
  out.pool = statisticsFrom(arrays, 'mu', 'sigma', path);
  out.spatial = statisticsFrom(arrays, 'mu_s', 'sigma_s', path);
  if (!out.images && !out.pool) throw new TensorFileError(path, `neither arr_0 (images) nor mu/sigma found; arrays: ${[...arrays.keys()].join(', ')}`);
  return out;
}

function statisticsFrom(arrays: Map<string, HostTensor>, muName: string, sigmaName: string, file: string): FeatureStatistics | undefined {
  const mu = arrays.get(muName);
  const sigma = arrays.get(sigmaName);
  if (!mu && !sigma) return undefined;
  if (!mu || !sigma) throw new TensorFileError(file, `has ${mu ? muName : sigmaName} without ${mu ? sigmaName : muName}`);
  const d = mu.shape[0];
  if (mu.shape.length !== 1 || sigma.shape.length !== 2 || sigma.shape[0] !== d || sigma.shape[1] !== d) {
    throw new TensorFileError(file, `${muName} [${mu.shape.join(', ')}] and ${sigmaName} [${sigma.shape.join(', ')}] must be [D] and [D, D]`);
  }
  return { mu: Float64Array.from(toFloat64(mu)), sigma: Float64Array.from(toFloat64(sigma)), dim: d };
}

/** Write an evaluator .npz: arr_0 (uint8 images) and the statistics given, float64. */
export async function writeEvaluatorBatch(path: string, batch: EvaluatorBatch, opts: { compressed?: boolean } = {}): Promise<void> {
  const arrays = new Map<string, HostTensor>();
  if (batch.images) {
    const b = batch.images;
    const pixels = b.pixels instanceof Uint8Array ? b.pixels : Uint8Array.from(b.pixels, (x) => Math.max(0, Math.min(255, Math.round(x))));
    arrays.set('arr_0', { dtype: 'U8', shape: [b.count, b.height, b.width, 3], data: pixels });
  }
  const put = (s: FeatureStatistics | undefined, mu: string, sigma: string) => {
    if (!s) return;
    arrays.set(mu, { dtype: 'F64', shape: [s.dim], data: s.mu });
    arrays.set(sigma, { dtype: 'F64', shape: [s.dim, s.dim], data: s.sigma });
  };
  put(batch.pool, 'mu', 'sigma');
  put(batch.spatial, 'mu_s', 'sigma_s');
  await writeFileAtomic(path, serializeNpzFile(arrays, opts.compressed));
}
