import { describe, expect, it } from 'vitest';
import { RecordedRandom, SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it('reproduces a stream for a seed and differs across seeds', () => {
    const a = new SeededRandom(42).normal(16);
    const b = new SeededRandom(42).normal(16);
    const c = new SeededRandom(43).normal(16);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws standard normals and uniforms with the right moments', () => {
    const n = 200_000;
    const z = new SeededRandom(7).normal(n);
    let m = 0;
    let v = 0;
    for (const x of z) m += x / n;
    for (const x of z) v += (x - m) ** 2 / n;
    // standard error of the mean is 1/sqrt(n) ~ 0.0022
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.02);
    const u = new SeededRandom(7).uniform(n);
    expect(u.reduce((a, x) => Math.min(a, x), 1)).toBeGreaterThanOrEqual(0);
    expect(u.reduce((a, x) => Math.max(a, x), 0)).toBeLessThan(1);
    expect(Math.abs(u.reduce((s, x) => s + x, 0) / n - 0.5)).toBeLessThan(0.005);
  });

  it('replays recorded draws in order and fails loudly past the end', () => {
    const r = new RecordedRandom([new Float32Array([1, 2]), new Float32Array([3])]);
    expect(Array.from(r.normal(2))).toEqual([1, 2]);
    expect(() => r.normal(2)).toThrow(/draw 1 has 1 values, 2 requested/);
  });
});
