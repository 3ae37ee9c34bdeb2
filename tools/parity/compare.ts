import { type HostTensor, toFloat64 } from '@adm/core';
import type { Precision, Tolerance } from './types.js';

type Numeric = ArrayLike<number> | number;

/**
 * Every tolerance is at least this many units in the last place of the expected value, in
 * the precision the tolerance names: a correct float32 result can differ from PyTorch's by
 * an ulp or two however small the reference's own float64 drift is (the classifier step's
 * loss 2.16 differed by one ulp, 2.4e-7, against 4 x f64_reference = 1.5e-7), and 4 ulps
 * also cover a rounding on each side of a power of two.
 */
export const FLOOR_ULPS = 4;

// Bits of the float64 mantissa and of the float32 one, and the smallest normal exponents.
const FORMAT: Record<Exclude<Precision, 'exact'>, { mant: number; minExp: number }> = {
  float32: { mant: 23, minExp: -126 },
  float64: { mant: 52, minExp: -1022 },
};

const bits = new DataView(new ArrayBuffer(8));

/**
 * One unit in the last place of `x` in `precision` (the spacing of that format at |x|; the
 * smallest subnormal at 0 and below the normal range); 0 for 'exact'. `x` must be finite.
 */
export function ulp(x: number, precision: Precision): number {
  if (precision === 'exact') return 0;
  const { mant, minExp } = FORMAT[precision];
  bits.setFloat64(0, x);
  const biased = (bits.getUint16(0) >> 4) & 0x7ff;
  // The binary exponent of |x| read from its float64 bits (exact, unlike log2 near powers of two).
  const exp = biased === 0 ? -1023 : biased - 1023;
  return 2 ** (Math.max(exp, minExp) - mant);
}

/** The largest |actual - expected| a tolerance allows at `expected` (finite): abs + rel |e|, at least FLOOR_ULPS ulps of e. */
export function allowedError(tol: Tolerance, expected: number): number {
  return Math.max(tol.abs + (tol.rel ?? 0) * Math.abs(expected), FLOOR_ULPS * ulp(expected, tol.precision));
}

/** Collects comparisons of one case: the largest error seen and every failure. */
export class Checker {
  maxAbs = 0;
  readonly failures: string[] = [];
  compared = 0;

  /**
   * Compare `actual` with `expected` element-wise; records max |a - e| and a failure when
   * any element exceeds allowedError(tol, e) (abs + rel * |e|, floored at FLOOR_ULPS ulps of
   * e in tol.precision), or shapes/sizes differ, or only one side is NaN or infinite.
   */
  close(name: string, actual: Numeric, expected: HostTensor | Numeric, tol: Tolerance, actualShape?: readonly number[]): boolean {
    const exp = isHost(expected) ? toFloat64(expected) : typeof expected === 'number' ? [expected] : expected;
    const act = typeof actual === 'number' ? [actual] : actual;
    this.compared++;
    if (isHost(expected) && actualShape && !sameShape(actualShape, expected.shape)) {
      this.failures.push(`${name}: shape [${actualShape.join(', ')}] != expected [${expected.shape.join(', ')}]`);
      return false;
    }
    if (act.length !== exp.length) {
      this.failures.push(`${name}: ${act.length} values, expected ${exp.length}`);
      return false;
    }
    let worst = 0;
    let worstExcess = -Infinity;
    let worstIdx = -1;
    for (let i = 0; i < act.length; i++) {
      const a = act[i];
      const e = exp[i];
      if (Number.isNaN(a) !== Number.isNaN(e)) {
        this.failures.push(`${name}[${i}]: ${a} vs expected ${e}`);
        return false;
      }
      if (Number.isNaN(a)) continue;
      if (a === e) continue; // equal infinities too
      // an infinity against anything else is no rounding difference (and inf - inf would be NaN)
      if (!Number.isFinite(a) || !Number.isFinite(e)) {
        this.failures.push(`${name}[${i}]: ${a} vs expected ${e}`);
        return false;
      }
      const d = Math.abs(a - e);
      if (d > worst) worst = d;
      const excess = d - allowedError(tol, e);
      if (excess > worstExcess) {
        worstExcess = excess;
        worstIdx = i;
      }
    }
    if (worst > this.maxAbs) this.maxAbs = worst;
    if (worstExcess > 0) {
      const rel = tol.rel ?? 0;
      this.failures.push(
        `${name}: max_abs=${worst.toExponential(3)} exceeds abs ${tol.abs}${rel ? ` + rel ${rel}` : ''}` +
          `${tol.precision === 'exact' ? '' : ` (floor ${FLOOR_ULPS} ${tol.precision} ulps)`} (at [${worstIdx}]: ${act[worstIdx]} vs ${exp[worstIdx]})`,
      );
      return false;
    }
    return true;
  }

  /** Exact equality, no ulp floor (integers: timestep lists, indices, counts; copied values). */
  equal(name: string, actual: Numeric, expected: HostTensor | Numeric): boolean {
    return this.close(name, actual, expected, { abs: 0, precision: 'exact' });
  }

  fail(why: string): void {
    this.failures.push(why);
  }
}

function isHost(x: unknown): x is HostTensor {
  return typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x && 'data' in x;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
