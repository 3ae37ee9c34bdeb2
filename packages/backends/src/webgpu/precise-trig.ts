import * as tf from '@tensorflow/tfjs';
import { KernelScope, withScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;

// Cody-Waite split of pi/2 (cephes sinf DP1..DP3): k * PIO2_1 is exact in float32 for
// |k| < 2^13, so x - k*pi/2 keeps ~1e-7 absolute accuracy for |x| up to ~1e4.
const TWO_OVER_PI = 0.6366197723675814;
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.837512969970703125e-4;
const PIO2_3 = 7.54978995489188216e-8;
// cephes sinf / cosf minimax polynomials on [-pi/4, pi/4] (error ~6e-8).
const S = [-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4];
const C = [4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5];

/**
 * sin(x + quarterTurns * pi/2) to float32 accuracy from multiply/add/round kernels.
 * WebGPU's built-in sin/cos need only 2^-11 absolute accuracy (SwiftShader is ~2e-4 off
 * even on [-pi, pi]), which shows in the timestep embedding cos(t * freq) and pushes a
 * UNet's output past the parity tolerance.
 */
export function preciseSin(s: KernelScope, x: TensorInfo, quarterTurns: number): TensorInfo {
  const mul = (a: TensorInfo, b: TensorInfo) => s.run('Multiply', { a, b });
  const add = (a: TensorInfo, b: TensorInfo) => s.run('Add', { a, b });
  const sub = (a: TensorInfo, b: TensorInfo) => s.run('Sub', { a, b });
  const k = s.run('Round', { x: mul(x, s.scalar(TWO_OVER_PI)) });
  let r = sub(x, mul(k, s.scalar(PIO2_1)));
  r = sub(r, mul(k, s.scalar(PIO2_2)));
  r = sub(r, mul(k, s.scalar(PIO2_3)));
  const r2 = mul(r, r);
  // sin r = r + r^3 (S0 + r^2 (S1 + r^2 S2))
  let ps = add(s.scalar(S[1]), mul(r2, s.scalar(S[2])));
  ps = add(s.scalar(S[0]), mul(r2, ps));
  const sinR = add(r, mul(mul(r2, r), ps));
  // cos r = 1 - r^2/2 + r^4 (C0 + r^2 (C1 + r^2 C2))
  let pc = add(s.scalar(C[1]), mul(r2, s.scalar(C[2])));
  pc = add(s.scalar(C[0]), mul(r2, pc));
  const cosR = add(sub(s.scalar(1), mul(r2, s.scalar(0.5))), mul(mul(r2, r2), pc));
  // quadrant q = (k + quarterTurns) mod 4: odd q takes cos, q >= 2 flips the sign.
  let kq = quarterTurns ? add(k, s.scalar(quarterTurns)) : k;
  const fl = (t: TensorInfo, d: number) => s.run('Floor', { x: mul(t, s.scalar(1 / d)) });
  kq = sub(kq, mul(fl(kq, 4), s.scalar(4))); // 0..3 (exact: small integers)
  const half = fl(kq, 2); // 0 or 1
  const odd = sub(kq, mul(half, s.scalar(2))); // 0 or 1
  const val = add(sinR, mul(odd, sub(cosR, sinR)));
  const sign = sub(s.scalar(1), mul(half, s.scalar(2)));
  return mul(val, sign);
}

let registered = new Set<string>();

/** Register precise Sin and Cos kernels for `backendName` (idempotent). */
export function registerPreciseTrig(backendName: string): void {
  if (registered.has(backendName)) return;
  registered = new Set([...registered, backendName]);
  for (const [kernelName, quarterTurns] of [['Sin', 0], ['Cos', 1]] as const) {
    const prior = tf.getKernel(kernelName, backendName);
    if (prior) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      setupFunc: prior?.setupFunc,
      kernelFunc: ({ inputs, backend }) =>
        withScope(backend as tf.KernelBackend, backendName, new Map(), (s) => {
          const x = (inputs as { x: TensorInfo }).x;
          const xf = x.dtype === 'float32' ? x : s.run('Cast', { x }, { dtype: 'float32' });
          return preciseSin(s, xf, quarterTurns);
        }),
    });
  }
}
