// cos(x) rounded correctly to float64 (barring exact ties), for the cosine schedule.
// V8's Math.cos (fdlibm) is off by one ulp for some arguments where glibc's cos, which
// guided-diffusion's math.cos calls, is correctly rounded; evaluating the Taylor series
// in double-double arithmetic makes the float64 betas reproducible on every JS engine.

type DD = [number, number];

const SPLITTER = 134217729; // 2^27 + 1 (Dekker's split for 53-bit mantissas)

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return quickTwoSum(s, e + a[1] + b[1]);
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

/** a / n for a small positive integer n. */
function ddDivInt(a: DD, n: number): DD {
  const q1 = a[0] / n;
  const [p, e] = twoProd(q1, n);
  const r = a[0] - p - e + a[1];
  return quickTwoSum(q1, r / n);
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

/**
 * cos(x) for |x| <= 4 (the schedule needs [0, pi/2]) by its Taylor series in double-double;
 * falls back to Math.cos outside that range.
 */
export function accurateCos(x: number): number {
  if (!(Math.abs(x) <= 4)) return Math.cos(x);
  const x2 = twoProd(x, x);
  let term: DD = [1, 0];
  let sum: DD = [1, 0];
  for (let k = 1; k < 40; k++) {
    // term_k = -term_{k-1} * x^2 / ((2k - 1) 2k)
    term = ddDivInt(ddMul(term, x2), (2 * k - 1) * 2 * k);
    term = [-term[0], -term[1]];
    sum = ddAdd(sum, term);
    if (Math.abs(term[0]) < 1e-40) break;
  }
  return sum[0] + sum[1];
}
