import { type HostTensor, parseNpz, readFileBytes, serializeNpz, writeFileAtomic } from '@adm/core';
import { featureMatrix, type FeatureStatistics } from './feature-statistics.js';
import type { InceptionFeatures } from './inception/feature-extractor.js';

/**
 * Inception features of an image set kept on disk, keyed by what determines them: the
 * input file (path, size, modification time), the weights file (same) and the
 * preprocessing. A reference batch is then featurized once, not at every evaluation.
 */
export class FeatureCache {
  constructor(readonly dir: string) {}

  /** The cache key of `input` under `weights` and `preprocessing`. */
  async key(input: string, weights: string, preprocessing: string): Promise<string> {
    const fs = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const { resolve } = await import('node:path');
    const id = async (p: string) => {
      const st = await fs.stat(p);
      return { path: resolve(p), size: st.size, mtimeMs: st.mtimeMs, dir: st.isDirectory() ? (await fs.readdir(p)).sort() : undefined };
    };
    const json = JSON.stringify({ v: 1, input: await id(input), weights: await id(weights), preprocessing });
    return createHash('sha256').update(json).digest('hex').slice(0, 32);
  }

  private async file(key: string, kind = 'features'): Promise<string> {
    const { join } = await import('node:path');
    return join(this.dir, `inception-${kind}-${key}.npz`);
  }

  /** Cached float64 statistics (pool_3 and spatial) of the same key, if any. */
  async loadStatistics(key: string): Promise<{ pool: FeatureStatistics; spatial: FeatureStatistics } | undefined> {
    const f = await this.file(key, 'statistics');
    let a: Map<string, HostTensor>;
    try {
      a = parseNpz(await readFileBytes(f), f);
    } catch {
      return undefined;
    }
    const stat = (mu: string, sigma: string): FeatureStatistics | undefined => {
      const m = a.get(mu);
      const s = a.get(sigma);
      if (!m || !s || m.dtype !== 'F64' || s.dtype !== 'F64') return undefined;
      return { mu: m.data as Float64Array, sigma: s.data as Float64Array, dim: m.shape[0] };
    };
    const pool = stat('mu', 'sigma');
    const spatial = stat('mu_s', 'sigma_s');
    return pool && spatial ? { pool, spatial } : undefined;
  }

  /** Keep statistics under the evaluator's names (mu, sigma, mu_s, sigma_s), float64. */
  async saveStatistics(key: string, pool: FeatureStatistics, spatial: FeatureStatistics): Promise<void> {
    const fs = await import('node:fs/promises');
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(
      await this.file(key, 'statistics'),
      serializeNpz({
        mu: { dtype: 'F64', shape: [pool.dim], data: pool.mu },
        sigma: { dtype: 'F64', shape: [pool.dim, pool.dim], data: pool.sigma },
        mu_s: { dtype: 'F64', shape: [spatial.dim], data: spatial.mu },
        sigma_s: { dtype: 'F64', shape: [spatial.dim, spatial.dim], data: spatial.sigma },
      }),
    );
  }

  async load(key: string): Promise<InceptionFeatures | undefined> {
    const f = await this.file(key);
    let arrays: Map<string, HostTensor>;
    try {
      arrays = parseNpz(await readFileBytes(f), f);
    } catch {
      return undefined; // missing or unreadable: recompute
    }
    const pool = arrays.get('pool');
    const spatial = arrays.get('spatial');
    const logits = arrays.get('logits');
    if (!pool || !spatial || !logits || pool.dtype !== 'F32' || spatial.dtype !== 'F32' || logits.dtype !== 'F32') return undefined;
    const n = pool.shape[0];
    return {
      pool: featureMatrix(pool.data as Float32Array, n, pool.shape[1]),
      spatial: featureMatrix(spatial.data as Float32Array, n, spatial.shape[1]),
      logits: logits.data as Float32Array,
      classes: logits.shape[1],
    };
  }

  async save(key: string, f: InceptionFeatures): Promise<void> {
    const fs = await import('node:fs/promises');
    await fs.mkdir(this.dir, { recursive: true });
    const n = f.pool.count;
    await writeFileAtomic(
      await this.file(key),
      serializeNpz({
        pool: { dtype: 'F32', shape: [n, f.pool.dim], data: Float32Array.from(f.pool.values) },
        spatial: { dtype: 'F32', shape: [n, f.spatial.dim], data: Float32Array.from(f.spatial.values) },
        logits: { dtype: 'F32', shape: [n, f.classes], data: f.logits },
      }),
    );
  }
}
