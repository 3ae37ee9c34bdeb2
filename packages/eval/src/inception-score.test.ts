import { describe, expect, it } from 'vitest';
import { inceptionScore, softmaxRows } from './inception-score.js';

describe('inceptionScore', () => {
  it('is the number of classes for confident, evenly spread predictions and 1 for identical ones', () => {
    const c = 4;
    const n = 8;
    const oneHot = new Float64Array(n * c);
    for (let i = 0; i < n; i++) oneHot[i * c + (i % c)] = 1;
    expect(inceptionScore(oneHot, n, c).score).toBeCloseTo(4, 14);
    const same = new Float64Array(n * c).fill(0.25);
    expect(inceptionScore(same, n, c).score).toBeCloseTo(1, 14);
  });

  it('weights chunks equally, the last one shorter', () => {
    // split 3 over 7 rows: chunks [0..2] all class 0 (score 1), [3..5] classes 0,1,2 (score 3), [6] (score 1).
    const c = 3;
    const rows = [0, 0, 0, 0, 1, 2, 1];
    const p = new Float64Array(rows.length * c);
    rows.forEach((k, i) => (p[i * c + k] = 1));
    const r = inceptionScore(p, rows.length, c, 3);
    expect(r.splitSizes).toEqual([3, 3, 1]);
    expect(r.splitScores.map((v) => Number(v.toFixed(12)))).toEqual([1, 3, 1]);
    expect(r.score).toBeCloseTo(5 / 3, 12);
  });

  it('softmax rows sum to one and follow logit differences', () => {
    const p = softmaxRows([0, Math.log(3), 1000, 1000 + Math.log(3)], 2, 2);
    expect([...p].map((v) => Number(v.toFixed(12)))).toEqual([0.25, 0.75, 0.25, 0.75]);
  });
});
