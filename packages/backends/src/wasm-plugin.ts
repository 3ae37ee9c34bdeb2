import * as tf from '@tensorflow/tfjs';
import type { BackendPlugin } from '@adm/core';
import { registerWasmTrainingKernels, type WasmKernelReport } from './wasm/register-wasm-kernels.js';

let kernels: WasmKernelReport | undefined;

/**
 * tfjs-backend-wasm (XNNPACK, SIMD) plus the kernels it needs to train our networks
 * (see registerWasmTrainingKernels). Replaces @adm/core's plain wasm plugin by name.
 * Single-threaded in Node (tfjs turns wasm threads off there); `wasm-mt` (wasm-threads-plugin.ts)
 * is the same backend on tfjs's threaded build.
 */
export const wasmPlugin: BackendPlugin = {
  name: 'wasm',
  priority: 10,
  async available() {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      return true;
    } catch (e) {
      return `@tensorflow/tfjs-backend-wasm did not load (npm install @tensorflow/tfjs-backend-wasm): ${(e as Error).message.split('\n')[0]}`;
    }
  },
  async activate() {
    await import('@tensorflow/tfjs-backend-wasm');
    kernels = registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not initialise the wasm backend');
    await tf.ready();
  },
  async describe() {
    const out: Record<string, string> = {};
    try {
      out.simd = String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      out.threads = String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === 'true' ? 'available (off in Node; see wasm-mt)' : '1 (multithreaded: wasm-mt)';
    } catch {
      /* flags are registered only once the wasm package is imported */
    }
    const k = kernels ?? registerWasmTrainingKernels();
    out.kernels = `added ${k.added.join(', ') || 'none'}; fast paths ${k.replaced.join(', ') || 'none'}`;
    return out;
  },
};
