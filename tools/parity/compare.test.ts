import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Checker, FLOOR_ULPS, ulp } from './compare.js';
import type { Tolerance } from './types.js';

// Property runs: ADM_FUZZ_RUNS=<n> for a longer campaign (default 200 each).
const RUNS = Number(process.env.ADM_FUZZ_RUNS ?? 200);

const F32_1 = 2 ** -23; // float32 ulp at 1
const F64_1 = 2 ** -52; // float64 ulp at 1
const f32 = (x: number) => Math.fround(x);

/** The next float32 away from zero, by incrementing the bit pattern (independent of ulp()). */
function nextUp32(x: number): number {
  const b = new Float32Array([x]);
  new Uint32Array(b.buffer)[0] += 1;
  return b[0];
}

function nextUp64(x: number): number {
  const b = new Float64Array([x]);
  new BigUint64Array(b.buffer)[0] += 1n;
  return b[0];
}

/** Verdict of one comparison on a fresh Checker (and the Checker, for its failures). */
function check(actual: number | number[], expected: number | number[], tol: Tolerance): { pass: boolean; c: Checker } {
  const c = new Checker();
  return { pass: c.close('x', actual, expected, tol), c };
}

const f32Tol = (abs = 0, rel?: number): Tolerance => ({ abs, rel, precision: 'float32' });
const f64Tol = (abs = 0, rel?: number): Tolerance => ({ abs, rel, precision: 'float64' });

describe('ulp', () => {
  it('gives the spacing of the format at |x|, exact at powers of two and below the normal range', () => {
    expect(ulp(1, 'float32')).toBe(F32_1);
    expect(ulp(f32(2.16), 'float32')).toBe(2 ** -22);
    expect(ulp(-2.16, 'float32')).toBe(2 ** -22);
    expect(ulp(2 ** 20, 'float32')).toBe(2 ** -3);
    // just below a power of two the spacing halves
    expect(ulp(f32(1 - 2 ** -24), 'float32')).toBe(2 ** -24);
    expect(ulp(1, 'float64')).toBe(F64_1);
    expect(ulp(1 - 2 ** -53, 'float64')).toBe(2 ** -53);
    expect(ulp(1e300, 'float64')).toBe(2 ** (996 - 52));
    // zero and subnormals: the smallest subnormal
    expect(ulp(0, 'float32')).toBe(2 ** -149);
    expect(ulp(1e-40, 'float32')).toBe(2 ** -149);
    expect(ulp(0, 'float64')).toBe(2 ** -1074);
    expect(ulp(5e-324, 'float64')).toBe(2 ** -1074);
    expect(ulp(123.5, 'exact')).toBe(0);
  });

  it('equals the distance to the next float32 / float64 for any finite value', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const up = nextUp32(Math.abs(x));
        if (!Number.isFinite(up)) return; // the largest float32 has no next value
        expect(ulp(x, 'float32')).toBe(up - Math.abs(x));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const up = nextUp64(Math.abs(x));
        if (!Number.isFinite(up)) return;
        expect(ulp(x, 'float64')).toBe(up - Math.abs(x));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('Checker.close: the ulp floor', () => {
  it('passes the classifier step loss one float32 ulp off against 4 x f64_reference = 1.5e-7', () => {
    const e = f32(2.1602); // the scale of classifier_training_step's out.loss
    const a = nextUp32(e);
    expect(a - e).toBeCloseTo(2.384e-7, 10);
    expect(check(a, e, f32Tol(1.5e-7)).pass).toBe(true);
    // the same difference fails where no floor applies
    expect(check(a, e, { abs: 1.5e-7, precision: 'exact' }).pass).toBe(false);
  });

  it(`allows exactly ${FLOOR_ULPS} ulps of the expected value and fails one ulp beyond`, () => {
    for (const e of [1, -1, 3.75, 1e-20, 6e4]) {
      const u = ulp(e, 'float32');
      expect(check(e + FLOOR_ULPS * u, e, f32Tol()).pass, `${e} + floor`).toBe(true);
      expect(check(e - FLOOR_ULPS * u, e, f32Tol()).pass, `${e} - floor`).toBe(true);
      expect(check(e + (FLOOR_ULPS + 1) * u, e, f32Tol()).pass, `${e} + floor + 1 ulp`).toBe(false);
    }
    expect(check(1 + FLOOR_ULPS * F64_1, 1, f64Tol()).pass).toBe(true);
    expect(check(1 + (FLOOR_ULPS + 1) * F64_1, 1, f64Tol()).pass).toBe(false);
  });

  it('keeps float64 comparisons at float64 resolution: one float32 ulp is far outside', () => {
    expect(check(1 + F32_1, 1, f64Tol(0, 1e-13)).pass).toBe(false);
    expect(check(1 + F32_1, 1, f32Tol()).pass).toBe(true);
  });

  it('never narrows a tolerance: abs + rel * |e| still applies where it is wider than the floor', () => {
    expect(check(1 + 9e-4, 1, f32Tol(1e-3)).pass).toBe(true);
    expect(check(1 + 1.1e-3, 1, f32Tol(1e-3)).pass).toBe(false);
    expect(check(1000 + 0.9, 1000, f32Tol(0, 1e-3)).pass).toBe(true);
    expect(check(1000 + 1.1, 1000, f32Tol(0, 1e-3)).pass).toBe(false);
  });

  it('floors at zero by the smallest subnormal only: zeros stay exact for all practical purposes', () => {
    expect(check(0, 0, f32Tol()).pass).toBe(true);
    expect(check(-0, 0, f32Tol()).pass).toBe(true);
    expect(check(2 ** -149, 0, f32Tol()).pass).toBe(true);
    expect(check(FLOOR_ULPS * 2 ** -149, 0, f32Tol()).pass).toBe(true);
    expect(check((FLOOR_ULPS + 1) * 2 ** -149, 0, f32Tol()).pass).toBe(false);
    expect(check(1e-30, 0, f32Tol()).pass).toBe(false);
    expect(check(1e-300, 0, f64Tol()).pass).toBe(false);
  });

  it('takes each element’s floor from its own magnitude (mixed magnitudes)', () => {
    const e = [1e-3, 1e3, -5, 0];
    const ok = e.map((v) => v + 3 * ulp(v, 'float32'));
    expect(check(ok, e, f32Tol()).pass).toBe(true);
    // 3 ulps of the largest element is far beyond the floor of the smallest
    const bad = [...ok];
    bad[0] = e[0] + 3 * ulp(1e3, 'float32');
    const r = check(bad, e, f32Tol());
    expect(r.pass).toBe(false);
    expect(r.c.failures[0]).toMatch(/at \[0\]/);
    expect(r.c.failures[0]).toMatch(/floor 4 float32 ulps/);
    expect(r.c.maxAbs).toBeCloseTo(3 * ulp(1e3, 'float32') - 0, 12);
  });

  it('NaN matches only NaN; an infinity matches only the same infinity, whatever the tolerance', () => {
    expect(check(NaN, NaN, f32Tol()).pass).toBe(true);
    expect(check([1, NaN], [1, NaN], f32Tol()).pass).toBe(true);
    const nanVsNumber = check(NaN, 1, f32Tol(1e9));
    expect(nanVsNumber.pass).toBe(false);
    expect(nanVsNumber.c.failures[0]).toBe('x[0]: NaN vs expected 1');
    expect(check(1, NaN, f32Tol(1e9)).pass).toBe(false);
    expect(check(Infinity, Infinity, f32Tol()).pass).toBe(true);
    expect(check(-Infinity, -Infinity, f64Tol()).pass).toBe(true);
    expect(check(-Infinity, Infinity, f32Tol(1e9, 1)).pass).toBe(false);
    // with rel > 0, inf - inf made the excess NaN, which compared as "not over"
    expect(check(3e38, Infinity, f32Tol(0, 1)).pass).toBe(false);
    expect(check(Infinity, 3e38, f32Tol(0, 1)).pass).toBe(false);
  });

  it('records the largest difference over every comparison of a case, and shape and size mismatches', () => {
    const c = new Checker();
    c.close('a', [1, 2], [1, 2 + 2 * ulp(2, 'float32')], f32Tol());
    c.close('b', [5], [5], f32Tol());
    expect(c.maxAbs).toBe(2 * ulp(2, 'float32'));
    expect(c.failures).toEqual([]);
    expect(c.close('c', [1, 2], [1, 2, 3], f32Tol())).toBe(false);
    expect(c.close('d', [1, 2], { dtype: 'F32', shape: [2, 1], data: Float32Array.from([1, 2]) }, f32Tol(), [1, 2])).toBe(false);
    expect(c.failures).toEqual(['c: 2 values, expected 3', 'd: shape [1, 2] != expected [2, 1]']);
    expect(c.compared).toBe(4);
  });
});

describe('Checker.equal', () => {
  it('is exact: no ulp floor for integers and copied values', () => {
    const c = new Checker();
    expect(c.equal('ints', [0, 7, -3], Int32Array.from([0, 7, -3]))).toBe(true);
    expect(c.equal('copy', [1 + F32_1], [1])).toBe(false);
    expect(c.equal('big', [1e6 + 1], [1e6])).toBe(false);
    expect(c.failures).toHaveLength(2);
  });
});
