import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, registerGroupNormGradient, type GroupNormAttrs } from '@adm/core';
import { KernelScope, withScope } from '../kernel-scope.js';
import { conv2dBackpropFilter, type Conv2DBackpropFilterAttrs } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputStride1, type Conv2DBackpropInputAttrs } from './conv2d-backprop-input.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { batchMatMulWasm, type BatchMatMulAttrs } from './batch-mat-mul.js';
import { transposeWasm, unpackWasm } from './transpose.js';
import { groupNormGradWasm, groupNormWasm } from './group-norm.js';

type TensorInfo = tf.TensorInfo;

export interface WasmKernelOptions {
  /** Replace BatchMatMul (default true). */
  batchMatMul?: boolean;
  /** Add the fused AdmGroupNorm / AdmGroupNormGrad kernels of @adm/core's contract (default true). */
  groupNorm?: boolean;
}

/** What registerWasmTrainingKernels did, for `adm info` and tests. */
export interface WasmKernelReport {
  added: string[];
  replaced: string[];
}

const BACKEND = 'wasm';
let report: WasmKernelReport | undefined;

/**
 * Make the wasm backend able to train a conv net, and faster at it:
 * - adds Conv2DBackpropFilter (im2col one tap at a time + matmul) and UnsortedSegmentSum
 *   (one-hot + matmul; the gradient of gather), which tfjs-backend-wasm lacks;
 * - replaces Conv2DBackpropInput by a forward conv with the flipped filter for stride 1;
 * - replaces BatchMatMul: batched products through one depthwise convolution (XNNPACK
 *   grouped GEMM) and transposed operands transposed first (see batchMatMulWasm);
 * - replaces Transpose of rank >= 5 by rank-4 steps, and Unpack by slices (both were
 *   ~100x slower than a copy);
 * - adds the fused GroupNorm(+SiLU) kernel and its gradient (@adm/core's AdmGroupNorm
 *   contract; the UNet runs it by name), which saves ~10 kernels and their kept
 *   intermediates per normalization.
 * Stock kernels stay the fallback. Idempotent. Must run after '@tensorflow/tfjs-backend-wasm'
 * is imported (its kernels are registered at import).
 */
export function registerWasmTrainingKernels(opts: WasmKernelOptions = {}): WasmKernelReport {
  if (report) return report;
  const originals = new Map<string, tf.KernelConfig>();
  for (const name of ['BatchMatMul', 'Conv2DBackpropInput', 'Conv2D', 'Transpose', 'Unpack']) {
    const k = tf.getKernel(name, BACKEND);
    if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel: is '@tensorflow/tfjs-backend-wasm' imported?`);
    originals.set(name, k);
  }
  const added: string[] = [];
  const replaced: string[] = [];
  const add = (kernelName: string, kernelFunc: tf.KernelFunc) => {
    const prior = tf.getKernel(kernelName, BACKEND);
    if (prior) {
      // Keep the stock kernel's setupFunc: it binds the wasm functions the fallback calls.
      tf.unregisterKernel(kernelName, BACKEND);
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, setupFunc: prior.setupFunc, disposeFunc: prior.disposeFunc });
      replaced.push(kernelName);
    } else {
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
      added.push(kernelName);
    }
  };
  const scoped = <R extends TensorInfo | undefined>(backend: tf.KernelBackend, body: (s: KernelScope) => R) => withScope(backend, BACKEND, originals, body);

  if (!tf.getKernel('Conv2DBackpropFilter', BACKEND)) {
    add('Conv2DBackpropFilter', ({ inputs, backend, attrs }) =>
      scoped(backend as tf.KernelBackend, (s) => conv2dBackpropFilter(s, inputs as { x: TensorInfo; dy: TensorInfo }, attrs as unknown as Conv2DBackpropFilterAttrs)));
  }
  if (!tf.getKernel('UnsortedSegmentSum', BACKEND)) {
    add('UnsortedSegmentSum', ({ inputs, backend, attrs }) =>
      scoped(backend as tf.KernelBackend, (s) => unsortedSegmentSum(s, inputs as { x: TensorInfo; segmentIds: TensorInfo }, attrs as unknown as { numSegments: number })));
  }
  const stockInput = originals.get('Conv2DBackpropInput')!;
  add('Conv2DBackpropInput', (args) => {
    const fast = scoped(args.backend as tf.KernelBackend, (s) =>
      conv2dBackpropInputStride1(s, args.inputs as { dy: TensorInfo; filter: TensorInfo }, args.attrs as unknown as Conv2DBackpropInputAttrs));
    return fast ?? (stockInput.kernelFunc(args) as TensorInfo);
  });
  const stockMatMul = originals.get('BatchMatMul')!;
  if (opts.batchMatMul ?? true) {
    add('BatchMatMul', (args) => {
      const fast = scoped(args.backend as tf.KernelBackend, (s) =>
        batchMatMulWasm(s, args.inputs as { a: TensorInfo; b: TensorInfo }, args.attrs as unknown as BatchMatMulAttrs));
      return fast ?? (stockMatMul.kernelFunc(args) as TensorInfo);
    });
  }
  const stockTranspose = originals.get('Transpose')!;
  add('Transpose', (args) => {
    const x = (args.inputs as { x: TensorInfo }).x;
    const perm = (args.attrs as unknown as { perm: number[] }).perm;
    const fast = scoped(args.backend as tf.KernelBackend, (s) => transposeWasm(s, x, perm));
    return fast ?? (stockTranspose.kernelFunc(args) as TensorInfo);
  });
  add('Unpack', (args) => {
    const x = (args.inputs as { value: TensorInfo }).value;
    const axis = (args.attrs as unknown as { axis: number }).axis;
    const s = new KernelScope(args.backend as tf.KernelBackend, BACKEND, originals);
    try {
      const pieces = unpackWasm(s, x, axis);
      for (const p of pieces) s.keep(p);
      return pieces;
    } finally {
      s.dispose();
    }
  });
  if (opts.groupNorm ?? true) {
    // Several outputs, made by the kernels themselves: the scope only frees their temporaries.
    const multi = (backend: tf.KernelBackend, body: (s: KernelScope) => TensorInfo[]) => {
      const s = new KernelScope(backend, BACKEND, originals);
      try {
        return body(s);
      } finally {
        s.dispose();
      }
    };
    add(GROUP_NORM_KERNEL, ({ inputs, backend, attrs }) =>
      multi(backend as tf.KernelBackend, (s) => groupNormWasm(s, inputs as unknown as Parameters<typeof groupNormWasm>[1], attrs as unknown as GroupNormAttrs)));
    add(GROUP_NORM_GRAD_KERNEL, ({ inputs, backend, attrs }) =>
      multi(backend as tf.KernelBackend, (s) => groupNormGradWasm(s, inputs as unknown as Parameters<typeof groupNormGradWasm>[1], attrs as unknown as GroupNormAttrs)));
    registerGroupNormGradient();
  }
  report = { added, replaced };
  return report;
}
