import { expect } from 'vitest';

/** Test helper: every entry of `actual` within `rel` of `expected`, relative to expected's largest magnitude. */
export function expectClose(actual: Float32Array, expected: Float32Array, what: string, rel: number): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale, `${what}: max |wasm - cpu| = ${worst} (scale ${scale})`).toBeLessThan(rel);
}
