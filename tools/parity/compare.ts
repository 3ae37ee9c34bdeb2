import { type HostTensor, toFloat64 } from '@adm/core';
import type { Tolerance } from './types.js';

type Numeric = ArrayLike<number> | number;

/** Collects comparisons of one case: the largest error seen and every failure. */
export class Checker {
  maxAbs = 0;
  readonly failures: string[] = [];
  compared = 0;

  /**
   * Compare `actual` with `expected` element-wise; records max |a - e| and a failure when
   * any element exceeds abs + rel * |e|, or shapes/sizes differ, or values are NaN.
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
    const rel = tol.rel ?? 0;
    for (let i = 0; i < act.length; i++) {
      const a = act[i];
      const e = exp[i];
      if (Number.isNaN(a) !== Number.isNaN(e)) {
        this.failures.push(`${name}[${i}]: ${a} vs expected ${e}`);
        return false;
      }
      if (Number.isNaN(a)) continue;
      if (a === e) continue; // equal infinities too
      const d = Math.abs(a - e);
      if (d > worst) worst = d;
      const excess = d - (tol.abs + rel * Math.abs(e));
      if (excess > worstExcess) {
        worstExcess = excess;
        worstIdx = i;
      }
    }
    if (worst > this.maxAbs) this.maxAbs = worst;
    if (worstExcess > 0) {
      this.failures.push(
        `${name}: max_abs=${worst.toExponential(3)} exceeds abs ${tol.abs}${rel ? ` + rel ${rel}` : ''} (at [${worstIdx}]: ${act[worstIdx]} vs ${exp[worstIdx]})`,
      );
      return false;
    }
    return true;
  }

  /** Exact equality (integers: timestep lists, indices, counts). */
  equal(name: string, actual: Numeric, expected: HostTensor | Numeric): boolean {
    return this.close(name, actual, expected, { abs: 0 });
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
