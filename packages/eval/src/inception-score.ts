import { ShapeError } from '@adm/core';

/** The evaluator's chunk size: rows are scored in consecutive chunks of 5000. */
export const INCEPTION_SCORE_SPLIT_SIZE = 5000;

export interface InceptionScore {
  /** Plain mean of the chunk scores. */
  score: number;
  splitScores: number[];
  splitSizes: number[];
}

/**
 * Inception Score (Salimans et al. 2016) exactly as guided-diffusion's evaluator chunks it:
 * rows cut in order into chunks of `splitSize` (the last may be shorter), each chunk scored
 * exp(mean_rows sum_c p (log p - log mean_rows p)), chunks averaged with equal weight.
 * A probability of exactly 0 contributes 0 (the limit of p log p) where numpy would give NaN.
 *
 * @param probs row-major [count x classes] class probabilities
 */
export function inceptionScore(probs: Float64Array | Float32Array, count: number, classes: number, splitSize = INCEPTION_SCORE_SPLIT_SIZE): InceptionScore {
  if (probs.length !== count * classes) throw new ShapeError(`inception score: expected ${count} x ${classes} probabilities, got ${probs.length}`);
  if (count === 0) throw new ShapeError('inception score: no samples');
  if (!(splitSize >= 1)) throw new RangeError(`inception score: split size must be >= 1, got ${splitSize}`);
  const splitScores: number[] = [];
  const splitSizes: number[] = [];
  const marginal = new Float64Array(classes);
  const logMarginal = new Float64Array(classes);
  for (let start = 0; start < count; start += splitSize) {
    const end = Math.min(count, start + splitSize);
    const rows = end - start;
    marginal.fill(0);
    for (let i = start; i < end; i++) {
      const off = i * classes;
      for (let c = 0; c < classes; c++) marginal[c] += probs[off + c];
    }
    for (let c = 0; c < classes; c++) logMarginal[c] = Math.log(marginal[c] / rows);
    let klSum = 0;
    for (let i = start; i < end; i++) {
      const off = i * classes;
      let kl = 0;
      for (let c = 0; c < classes; c++) {
        const p = probs[off + c];
        if (p > 0) kl += p * (Math.log(p) - logMarginal[c]);
      }
      klSum += kl;
    }
    splitScores.push(Math.exp(klSum / rows));
    splitSizes.push(rows);
  }
  const score = splitScores.reduce((s, v) => s + v, 0) / splitScores.length;
  return { score, splitScores, splitSizes };
}

/** Row-wise softmax in float64 (max subtracted). */
export function softmaxRows(logits: ArrayLike<number>, count: number, classes: number): Float64Array {
  if (logits.length !== count * classes) throw new ShapeError(`softmax: expected ${count} x ${classes} logits, got ${logits.length}`);
  const out = new Float64Array(count * classes);
  for (let i = 0; i < count; i++) {
    const off = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[off + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[off + c] - max);
      out[off + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[off + c] /= sum;
  }
  return out;
}
