import { ShapeError } from '@adm/core';
import { computeStatistics, type FeatureStatistics } from './feature-statistics.js';
import { frechetDistance } from './frechet-distance.js';
import { inceptionScore, softmaxRows } from './inception-score.js';
import type { InceptionFeatures } from './inception/feature-extractor.js';
import type { PairwiseDistanceEngine } from './pairwise-distances.js';
import { precisionRecall } from './precision-recall.js';

/** The evaluator's table (Section 2.2 metrics). */
export interface EvaluationReport {
  inceptionScore: number;
  fid: number;
  sfid: number;
  /** null when the reference has statistics but no images (precision/recall need its features). */
  precision: number | null;
  recall: number | null;
  /** Reference images featurized (0 when only statistics were given). */
  referenceCount: number;
  sampleCount: number;
}

export interface ReferenceSide {
  features?: InceptionFeatures;
  /** Precomputed statistics from the reference .npz (used instead of the features' when given). */
  pool?: FeatureStatistics;
  spatial?: FeatureStatistics;
}

/**
 * The metrics exactly as evaluations/evaluator.py main() combines them: IS on the samples
 * (softmax of the bias-free logits, splits of 5000), FID and sFID between sample and
 * reference statistics, improved precision/recall (k=3) with the reference as the real set.
 */
export async function evaluateFeatures(
  ref: ReferenceSide,
  sample: InceptionFeatures,
  opts: { distances?: PairwiseDistanceEngine; onStage?: (stage: string) => void } = {},
): Promise<EvaluationReport> {
  const stage = opts.onStage ?? (() => {});
  if (sample.pool.count < 2) throw new ShapeError(`evaluation needs at least 2 sample images, got ${sample.pool.count}`);
  const refFeatures = ref.features;
  if (!refFeatures && !(ref.pool && ref.spatial)) throw new ShapeError('the reference needs images or precomputed mu/sigma and mu_s/sigma_s');
  if (refFeatures && refFeatures.pool.count < 2 && !(ref.pool && ref.spatial)) throw new ShapeError(`evaluation needs at least 2 reference images, got ${refFeatures.pool.count}`);
  stage('inception score');
  const probs = softmaxRows(sample.logits, sample.pool.count, sample.classes);
  const is = inceptionScore(probs, sample.pool.count, sample.classes).score;
  stage('FID');
  const refPool = ref.pool ?? computeStatistics(refFeatures!.pool);
  const fid = frechetDistance(computeStatistics(sample.pool), refPool).distance;
  stage('sFID');
  const refSpatial = ref.spatial ?? computeStatistics(refFeatures!.spatial);
  const sfid = frechetDistance(computeStatistics(sample.spatial), refSpatial).distance;
  let pr: { precision: number[]; recall: number[] } | undefined;
  if (refFeatures) {
    stage('precision/recall');
    pr = await precisionRecall(refFeatures.pool, sample.pool, { engine: opts.distances });
  }
  return {
    inceptionScore: is,
    fid,
    sfid,
    precision: pr ? pr.precision[0] : null,
    recall: pr ? pr.recall[0] : null,
    referenceCount: refFeatures?.pool.count ?? 0,
    sampleCount: sample.pool.count,
  };
}

/** The table the evaluator prints. */
export function formatEvaluationTable(r: EvaluationReport): string {
  return [
    `Inception Score: ${r.inceptionScore}`,
    `FID: ${r.fid}`,
    `sFID: ${r.sfid}`,
    `Precision: ${r.precision ?? 'n/a (reference has no images)'}`,
    `Recall: ${r.recall ?? 'n/a (reference has no images)'}`,
  ].join('\n');
}
