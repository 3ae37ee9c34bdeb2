// `adm eval <reference> <samples> --inception <weights>`: the paper's metric table (Inception
// Score, FID, sFID, precision, recall) as guided-diffusion's evaluations/evaluator.py
// computes it, with a TensorFlow.js FID Inception-v3.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, ShapeError, TensorFileError, writeFileAtomic } from '@adm/core';
import {
  type EvaluatorBatch,
  encodePng,
  evaluateFeatures,
  extractFeatures,
  FeatureCache,
  FidInceptionV3,
  float64Distances,
  formatEvaluationTable,
  type ImageBatch,
  type InceptionFeatures,
  nearestNeighbourGrid,
  nearestNeighbours,
  type PairwiseDistanceEngine,
  parsePreprocessing,
  readEvaluatorBatch,
  tfDistances,
  writeEvaluatorBatch,
  computeStatistics,
} from '@adm/eval';
import { checkBackendFlag, startBackend } from '../backend-flag.js';
import { asFlagError, checkPathFlag, parseFlags, type CliCommand, UsageError } from '../command.js';
import { noteLine } from '../output.js';
import { createProgress, type Progress } from '../progress.js';

const USAGE = `usage: adm eval <reference.npz|folder> <samples.npz|folder> --inception <weights> [options]

  reference / samples   guided-diffusion evaluator .npz (arr_0 uint8 [N,H,W,3]; a reference may
                        also hold mu, sigma, mu_s, sigma_s) or a folder of .png images
  --inception <file>    FID Inception weights: pytorch-fid's pt_inception-2015-12-05-6726825d.pth
                        or a .safetensors with the same parameter names (required)
  --json <file>         also write the metrics as JSON
  --preprocessing <m>   evaluator (default: the reference evaluator's TF graph resize and
                        (x-128)/128) or pytorch-fid (half-pixel resize, 2x-1)
  --batch-size <n>      images per Inception forward pass (default 64)
  --backend <names>     tfjs backend preference (default: ADM_BACKEND, else auto)
  --distances <e>       precision/recall distances: auto (default), float64 (exact, small sets)
                        or tf (float32 matmul on the backend, large sets)
  --cache-dir <dir>     where Inception features of inputs are cached, keyed by file, size,
                        modification time, weights and preprocessing (default ~/.cache/adm/eval)
  --no-cache            neither read nor write the feature cache
  --save-reference <f>  write the reference as an evaluator .npz with mu/sigma/mu_s/sigma_s
  --compress            write --save-reference deflate-compressed (np.savez_compressed)
  --nearest <file.png>  nearest-neighbour grid (paper Appendix C): each row a sample and its
                        nearest reference images in Inception pool_3 space
  --nearest-samples <n> how many samples (the first n; default 8)
  --nearest-k <k>       neighbours per sample (default 8)`;

/** Feature extraction's progress through the CLI's reporter (images done of the total). */
function progress(label: string): (done: number, total: number) => void {
  let bar: Progress | undefined;
  return (done, total) => {
    bar ??= createProgress(label, total, { unit: 'images' });
    bar.update(done);
    if (done >= total) bar.finish();
  };
}

function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${flag}`, `expected a positive integer, got "${v}"`);
  return n;
}

export const command: CliCommand = {
  name: 'eval',
  async run(argv) {
    const { values, positionals } = parseFlags('eval', argv, {
      inception: { type: 'string' },
      json: { type: 'string' },
      preprocessing: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      distances: { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
      'save-reference': { type: 'string' },
      compress: { type: 'boolean' },
      nearest: { type: 'string' },
      'nearest-samples': { type: 'string' },
      'nearest-k': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError('<reference> <samples>', `expected two arguments, got ${positionals.length} (adm eval --help)`);
    const [refPath, samplePath] = positionals;
    if (!values.inception) throw new ConfigError('--inception', 'the FID Inception weights file is required (pytorch-fid .pth or .safetensors)');
    let preprocessing: ReturnType<typeof parsePreprocessing>;
    try {
      preprocessing = parsePreprocessing(values.preprocessing ?? 'evaluator');
    } catch (e) {
      throw asFlagError('--preprocessing', e);
    }
    const batchSize = positiveInt('batch-size', values['batch-size'], 64);
    const distancesFlag = values.distances ?? 'auto';
    if (!['auto', 'float64', 'tf'].includes(distancesFlag)) throw new ConfigError('--distances', `expected auto, float64 or tf, got "${distancesFlag}"`);
    const nearestSamples = positiveInt('nearest-samples', values['nearest-samples'], 8);
    const nearestK = positiveInt('nearest-k', values['nearest-k'], 8);
    await checkPathFlag('--inception', values.inception, 'file');

    // Read both inputs before the slow parts, so bad files fail fast.
    const ref = await readEvaluatorBatch(refPath);
    const sample = await readEvaluatorBatch(samplePath);
    if (!sample.images) throw new TensorFileError(samplePath, 'holds no images (arr_0); samples must be images');
    if (ref.images && (ref.images.height !== sample.images.height || ref.images.width !== sample.images.width)) {
      throw new ShapeError(
        `image sizes differ: reference ${refPath} is ${ref.images.width}x${ref.images.height}, samples ${samplePath} are ${sample.images.width}x${sample.images.height}; compare samples with a reference batch of the same resolution`,
      );
    }
    if (ref.images && ref.images.count < 4) throw new ShapeError(`${refPath}: ${ref.images.count} reference image(s); precision/recall (k=3) needs at least 4`);
    if (sample.images.count < 4) throw new ShapeError(`${samplePath}: ${sample.images.count} sample image(s); precision/recall (k=3) needs at least 4`);
    if (values['save-reference'] && !ref.images) throw new ConfigError('--save-reference', `${refPath} has no images to save`);
    if (values.nearest && !ref.images) throw new ConfigError('--nearest', `${refPath} has no images to search`);
    const preference = await checkBackendFlag(values.backend);

    const choice = await startBackend(preference, values.backend);
    const net = await FidInceptionV3.fromFile(values.inception);
    try {
      const cache = values['no-cache'] ? undefined : new FeatureCache(values['cache-dir'] ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'adm', 'eval'));
      const featurize = async (path: string, images: ImageBatch, label: string): Promise<InceptionFeatures> => {
        const key = cache ? await cache.key(path, values.inception!, preprocessing) : undefined;
        if (key) {
          const hit = await cache!.load(key);
          if (hit && hit.pool.count === images.count) {
            noteLine(`${label}: features from the cache`);
            return hit;
          }
        }
        const f = await extractFeatures(net, images, { preprocessing, batchSize, onProgress: progress(label) });
        if (key) await cache!.save(key, f);
        return f;
      };
      const refFeatures = ref.images ? await featurize(refPath, ref.images, 'reference') : undefined;
      const sampleFeatures = refFeatures && resolve(refPath) === resolve(samplePath) ? refFeatures : await featurize(samplePath, sample.images, 'samples');
      // Reference statistics: the .npz's own when precomputed, else computed once and cached.
      const referenceStatistics = ref.pool && ref.spatial ? 'precomputed' : 'computed';
      if (refFeatures && !(ref.pool && ref.spatial)) {
        const key = cache ? await cache.key(refPath, values.inception, preprocessing) : undefined;
        const hit = key ? await cache!.loadStatistics(key) : undefined;
        if (hit) noteLine('reference: statistics from the cache');
        ref.pool ??= hit?.pool ?? computeStatistics(refFeatures.pool);
        ref.spatial ??= hit?.spatial ?? computeStatistics(refFeatures.spatial);
        if (key && !hit) await cache!.saveStatistics(key, ref.pool, ref.spatial);
      }
      const work = (refFeatures?.pool.count ?? 0) * sampleFeatures.pool.count * sampleFeatures.pool.dim;
      const distances: PairwiseDistanceEngine = distancesFlag === 'float64' || (distancesFlag === 'auto' && work <= 2e9) ? float64Distances : tfDistances;
      const report = await evaluateFeatures({ features: refFeatures, pool: ref.pool, spatial: ref.spatial }, sampleFeatures, {
        distances,
        onStage: (s) => noteLine(`computing ${s}...`),
      });
      console.log(formatEvaluationTable(report));

      if (values['save-reference']) {
        if (!ref.images || !refFeatures) throw new ConfigError('--save-reference', `${refPath} has no images to save`);
        const out: EvaluatorBatch = {
          images: ref.images,
          pool: ref.pool ?? computeStatistics(refFeatures.pool),
          spatial: ref.spatial ?? computeStatistics(refFeatures.spatial),
        };
        await writeEvaluatorBatch(values['save-reference'], out, { compressed: values.compress });
        noteLine(`wrote ${values['save-reference']}`);
      }
      if (values.nearest) {
        if (!ref.images || !refFeatures) throw new ConfigError('--nearest', `${refPath} has no images to search`);
        const m = Math.min(nearestSamples, sample.images.count);
        const k = nearestK;
        const chosen = Array.from({ length: m }, (_, i) => i);
        const queries = { values: sampleFeatures.pool.values.subarray(0, m * sampleFeatures.pool.dim), count: m, dim: sampleFeatures.pool.dim };
        const nn = await nearestNeighbours(queries, refFeatures.pool, k, { engine: distances });
        await writeFileAtomic(values.nearest, encodePng(nearestNeighbourGrid(sample.images, chosen, ref.images, nn)));
        noteLine(`wrote ${values.nearest} (${m} samples x ${nn.k} nearest reference images)`);
      }
      if (values.json) {
        const json = {
          ...report,
          preprocessing,
          backend: choice.name,
          reference: refPath,
          samples: samplePath,
          inception: values.inception,
          referenceStatistics,
          distances: distances.name,
        };
        await writeFileAtomic(values.json, `${JSON.stringify(json, null, 2)}\n`);
      }
      return 0;
    } finally {
      net.dispose();
    }
  },
};
