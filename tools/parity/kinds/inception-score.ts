import { toFloat32, toFloat64 } from '@adm/core';
import { INCEPTION_SCORE_SPLIT_SIZE, inceptionScore, softmaxRows } from '@adm/eval';
import type { CaseContext, Tolerance } from '../types.js';

export const tolerances: Record<string, Tolerance> = {
  probs: { abs: 1e-15, rel: 1e-12, precision: 'float64', why: 'float64 softmax of the same logits; exp/log rounding only' },
  inception_score: { abs: 0, rel: 1e-12, precision: 'float64', why: 'float64 on the same probabilities; summation order differs from numpy pairwise sums' },
  split_scores: { abs: 0, rel: 1e-12, precision: 'float64', why: 'as inception_score' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const t = await ctx.tensors();
  const splitSize = Number(ctx.spec.params?.split_size ?? INCEPTION_SCORE_SPLIT_SIZE);
  const exp = ctx.spec.expected ?? {};
  if (!t.has('probs')) {
    // Only logits: the pipeline's route (float64 softmax) is the whole check.
    const lg = t.get('logits');
    const [n, c] = lg.shape;
    const r = inceptionScore(softmaxRows(toFloat32(lg), n, c), n, c, splitSize);
    ctx.check.close('inception_score(logits)', r.score, exp.inception_score, tolerances.inception_score);
    if (Array.isArray(exp.split_scores)) ctx.check.close('split_scores', r.splitScores, exp.split_scores, tolerances.split_scores);
    return;
  }
  const probsT = t.get('probs');
  const [n, c] = probsT.shape;
  const fromProbs = inceptionScore(toFloat64(probsT), n, c, splitSize);
  ctx.check.close('inception_score', fromProbs.score, exp.inception_score, tolerances.inception_score);
  if (Array.isArray(exp.split_scores)) ctx.check.close('split_scores', fromProbs.splitScores, exp.split_scores, tolerances.split_scores);
  if (Array.isArray(exp.split_sizes)) ctx.check.equal('split_sizes', fromProbs.splitSizes, exp.split_sizes);
  if (t.has('logits')) {
    // The pipeline's route: logits -> float64 softmax -> score.
    const probs = softmaxRows(toFloat32(t.get('logits')), n, c);
    ctx.check.close('probs', probs, probsT, tolerances.probs, [n, c]);
    ctx.check.close('inception_score(logits)', inceptionScore(probs, n, c, splitSize).score, exp.inception_score, tolerances.inception_score);
  }
}
