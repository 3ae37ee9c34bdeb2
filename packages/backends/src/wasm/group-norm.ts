import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { AdmError, GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, ShapeError, type GroupNormAttrs } from '@adm/core';
import type { KernelScope } from '../kernel-scope.js';

type TensorInfo = tf.TensorInfo;

/*
 * The fused GroupNorm (+ affine, + optional SiLU) of @adm/core's kernel contract for the wasm
 * backend, as plain loops over the wasm heap. The tf-ops formula is ~10 kernels whose
 * intermediates all stay alive (and are saved for the gradient) until the block's tidy ends;
 * here a call keeps only y, mean and rstd. Statistics are accumulated in float64, two passes
 * (mean, then the biased variance of x - mean), rstd = 1 / sqrt(var + epsilon) as torch's
 * GroupNorm computes it. The backward is that of the native addon (packages/native/addon/src/
 * group-norm.cc), with the pre-SiLU value recomputed from x, mean, rstd, gamma and beta.
 * The sigmoid of SiLU is the backend's own Sigmoid kernel (XNNPACK, SIMD) on a temporary:
 * Math.exp per element cost twice as much as the rest of the kernel together.
 */

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const describe = (t: TensorInfo) => `${t.dtype} [${t.shape.join(', ')}]`;

function expectFloat32(kernel: string, name: string, t: TensorInfo, shape?: readonly number[]): void {
  const shapeOk = !shape || (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]));
  if (t.dtype !== 'float32' || !shapeOk) {
    throw new ShapeError(`${kernel} input ${name}: expected a float32 tensor${shape ? ` of shape [${shape.join(', ')}]` : ''}, got ${describe(t)}`);
  }
}

/** [batch, spatial, channels] of the channels-last x, checked against the attrs. */
function layout(kernel: string, x: TensorInfo, attrs: GroupNormAttrs): [number, number, number] {
  const { groups, epsilon } = attrs;
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${kernel} attr groups: expected a positive integer, got ${groups}`);
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new ShapeError(`${kernel} attr epsilon: expected a finite number >= 0, got ${epsilon}`);
  expectFloat32(kernel, 'x', x);
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || c % groups !== 0) {
    throw new ShapeError(`${kernel} input x: expected rank >= 2 with the last axis (channels) a multiple of ${groups} groups, got ${describe(x)}`);
  }
  return [x.shape[0], size(x.shape.slice(1, -1)), c];
}

/** The wasm memory as float32, a fresh view (emscripten replaces it when the memory grows). */
const heapF32 = (backend: BackendWasm) => (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;

/** A float32 view of a tensor's data in `heap`, which must be a view taken after the last allocation. */
function view(backend: BackendWasm, heap: Float32Array, t: TensorInfo): Float32Array {
  // Division, not `>> 2`: offsets pass 2^31 once the heap grows beyond 2 GiB.
  const start = backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const end = start + size(t.shape);
  // A shared (threaded) heap is not detached when it grows, only outgrown: never read short.
  if (end > heap.length) throw new AdmError(`wasm heap view of ${heap.length} floats ends before tensor data [${start}, ${end}): the module's HEAPF32 is stale`);
  return heap.subarray(start, end);
}

/** Per-channel copy of a per-(sample, group) statistic of sample b, as float64. */
function perChannel(stat: ArrayLike<number>, b: number, groups: number, c: number, out: Float64Array): Float64Array {
  const cg = c / groups;
  for (let k = 0; k < c; k++) out[k] = stat[b * groups + ((k / cg) | 0)];
  return out;
}

/** AdmGroupNorm: inputs {x, gamma, beta} -> [y, mean, rstd] (mean, rstd shaped [batch, groups]). */
export function groupNormWasm(s: KernelScope, inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }, attrs: GroupNormAttrs): TensorInfo[] {
  const backend = s.backend as unknown as BackendWasm;
  const { x, gamma, beta } = inputs;
  const [n, spatial, c] = layout(GROUP_NORM_KERNEL, x, attrs);
  expectFloat32(GROUP_NORM_KERNEL, 'gamma', gamma, [c]);
  expectFloat32(GROUP_NORM_KERNEL, 'beta', beta, [c]);
  const { groups: G, epsilon, silu } = attrs;
  const cg = c / G;
  const y = backend.makeOutput([...x.shape], 'float32');
  const meanInfo = backend.makeOutput([n, G], 'float32');
  const rstdInfo = backend.makeOutput([n, G], 'float32');
  // Each allocation may grow the wasm memory, which detaches earlier views: take the view now.
  const heap = heapF32(backend);
  const xv = view(backend, heap, x);
  const yv = view(backend, heap, y);
  const mv = view(backend, heap, meanInfo);
  const rv = view(backend, heap, rstdInfo);
  const gammaC = Float64Array.from(view(backend, heap, gamma));
  const betaC = Float64Array.from(view(backend, heap, beta));
  const accG = new Float64Array(G);
  const muG = new Float64Array(G);
  // y = x * scale + shift per channel (in float64, so no cancellation when |mean| >> std).
  const scaleC = new Float64Array(c);
  const shiftC = new Float64Array(c);
  const count = spatial * cg;
  for (let b = 0; b < n; b++) {
    const first = b * spatial * c;
    const end = first + spatial * c;
    accG.fill(0);
    for (let o = first; o < end; o += c) {
      for (let g = 0, k = o; g < G; g++) {
        let t = 0;
        for (const e = k + cg; k < e; k++) t += xv[k];
        accG[g] += t;
      }
    }
    for (let g = 0; g < G; g++) {
      muG[g] = accG[g] / count;
      mv[b * G + g] = muG[g];
    }
    accG.fill(0);
    for (let o = first; o < end; o += c) {
      for (let g = 0, k = o; g < G; g++) {
        const mu = muG[g];
        let t = 0;
        for (const e = k + cg; k < e; k++) {
          const d = xv[k] - mu;
          t += d * d;
        }
        accG[g] += t;
      }
    }
    for (let g = 0; g < G; g++) {
      const r = 1 / Math.sqrt(accG[g] / count + epsilon);
      rv[b * G + g] = r;
      for (let k = g * cg; k < (g + 1) * cg; k++) {
        scaleC[k] = r * gammaC[k];
        shiftC[k] = betaC[k] - muG[g] * scaleC[k];
      }
    }
    for (let o = first; o < end; o += c) for (let k = 0; k < c; k++) yv[o + k] = xv[o + k] * scaleC[k] + shiftC[k];
  }
  if (silu) {
    const sig = s.run('Sigmoid', { x: y });
    const h = heapF32(backend); // Sigmoid allocated: earlier views may be detached
    const out = view(backend, h, y);
    const sg = view(backend, h, sig);
    for (let i = 0; i < out.length; i++) out[i] *= sg[i];
    s.free(sig);
  }
  return [y, meanInfo, rstdInfo];
}

/** AdmGroupNormGrad: inputs {dy, x, gamma, beta, mean, rstd} -> [dx, dgamma, dbeta]. */
export function groupNormGradWasm(
  s: KernelScope,
  inputs: { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; mean: TensorInfo; rstd: TensorInfo },
  attrs: GroupNormAttrs,
): TensorInfo[] {
  const backend = s.backend as unknown as BackendWasm;
  const { dy, x, gamma, beta, mean, rstd } = inputs;
  const [n, spatial, c] = layout(GROUP_NORM_GRAD_KERNEL, x, attrs);
  const G = attrs.groups;
  expectFloat32(GROUP_NORM_GRAD_KERNEL, 'dy', dy, x.shape);
  expectFloat32(GROUP_NORM_GRAD_KERNEL, 'gamma', gamma, [c]);
  expectFloat32(GROUP_NORM_GRAD_KERNEL, 'beta', beta, [c]);
  expectFloat32(GROUP_NORM_GRAD_KERNEL, 'mean', mean, [n, G]);
  expectFloat32(GROUP_NORM_GRAD_KERNEL, 'rstd', rstd, [n, G]);
  const cg = c / G;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dgamma = backend.makeOutput([...gamma.shape], 'float32');
  const dbeta = backend.makeOutput([...beta.shape], 'float32');
  const silu = !!attrs.silu;
  const gammaC = Float64Array.from(view(backend, heapF32(backend), gamma));
  const betaC = Float64Array.from(view(backend, heapF32(backend), beta));
  const muC = new Float64Array(c);
  const rC = new Float64Array(c);
  const block = spatial * c;
  let sig: TensorInfo | undefined;
  if (silu) {
    // The pre-SiLU value v = xhat * gamma + beta goes into dx, and its sigmoid into a temporary.
    const heap = heapF32(backend);
    const [xv, dxv, mv, rv] = [x, dx, mean, rstd].map((t) => view(backend, heap, t));
    const scaleC = new Float64Array(c);
    const shiftC = new Float64Array(c);
    for (let b = 0; b < n; b++) {
      perChannel(mv, b, G, c, muC);
      perChannel(rv, b, G, c, rC);
      for (let k = 0; k < c; k++) {
        scaleC[k] = rC[k] * gammaC[k];
        shiftC[k] = betaC[k] - muC[k] * scaleC[k];
      }
      for (let o = b * block; o < (b + 1) * block; o += c) for (let k = 0; k < c; k++) dxv[o + k] = xv[o + k] * scaleC[k] + shiftC[k];
    }
    sig = s.run('Sigmoid', { x: dx });
  }
  const heap = heapF32(backend); // after every allocation (see groupNormWasm)
  const [xv, dyv, dxv, mv, rv] = [x, dy, dx, mean, rstd].map((t) => view(backend, heap, t));
  const sv = sig ? view(backend, heap, sig) : undefined;
  // Per channel: sums of dz and dz * xhat over positions (dz: the gradient at the affine output).
  const a1 = new Float64Array(c);
  const a2 = new Float64Array(c);
  const dbetaAcc = new Float64Array(c);
  const dgammaAcc = new Float64Array(c);
  const coefA = new Float64Array(c);
  const coefB = new Float64Array(c);
  const coefC = new Float64Array(c);
  const count = spatial * cg;
  for (let b = 0; b < n; b++) {
    const first = b * block;
    const end = first + block;
    perChannel(mv, b, G, c, muC);
    perChannel(rv, b, G, c, rC);
    a1.fill(0);
    a2.fill(0);
    // First pass: dz, kept in dx until the second pass.
    if (sv) {
      for (let o = first; o < end; o += c) {
        for (let k = 0; k < c; k++) {
          const v = dxv[o + k];
          const sg = sv[o + k];
          const dz = dyv[o + k] * sg * (1 + v * (1 - sg));
          dxv[o + k] = dz;
          a1[k] += dz;
          a2[k] += dz * (xv[o + k] - muC[k]) * rC[k];
        }
      }
    } else {
      for (let o = first; o < end; o += c) {
        for (let k = 0; k < c; k++) {
          const dz = dyv[o + k];
          dxv[o + k] = dz;
          a1[k] += dz;
          a2[k] += dz * (xv[o + k] - muC[k]) * rC[k];
        }
      }
    }
    // dx = rstd * (dz * gamma - m1 - xhat * m2), m1 and m2 the group means of dz * gamma and
    // dz * gamma * xhat; as dz * A + x * B + C per channel.
    for (let g = 0; g < G; g++) {
      let t1 = 0;
      let t2 = 0;
      for (let k = g * cg; k < (g + 1) * cg; k++) {
        t1 += gammaC[k] * a1[k];
        t2 += gammaC[k] * a2[k];
      }
      const m1 = t1 / count;
      const m2 = t2 / count;
      for (let k = g * cg; k < (g + 1) * cg; k++) {
        const r = rC[k];
        coefA[k] = r * gammaC[k];
        coefB[k] = -r * r * m2;
        coefC[k] = -r * m1 + muC[k] * r * r * m2;
      }
    }
    for (let k = 0; k < c; k++) {
      dbetaAcc[k] += a1[k];
      dgammaAcc[k] += a2[k];
    }
    for (let o = first; o < end; o += c) for (let k = 0; k < c; k++) dxv[o + k] = dxv[o + k] * coefA[k] + xv[o + k] * coefB[k] + coefC[k];
  }
  if (sig) s.free(sig);
  view(backend, heap, dgamma).set(dgammaAcc);
  view(backend, heap, dbeta).set(dbetaAcc);
  return [dx, dgamma, dbeta];
}
