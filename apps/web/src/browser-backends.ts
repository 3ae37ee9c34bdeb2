import * as tf from '@tensorflow/tfjs';
import { registerBackendPlugin, useBackend, type BackendChoice } from '@adm/core';
import { registerWasmTrainingKernels } from '@adm/backends';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { browserWasmThreadsPlugin, WASM_THREADS_BACKEND, wasmThreadsInUse } from './wasm-threads-browser.js';

/**
 * The browser's order of preference (DESIGN.md: WebGPU, then WebGL, then WASM): threaded
 * WASM when the page is cross-origin isolated, else single-threaded.
 */
export const BROWSER_BACKEND_ORDER = ['webgpu', 'webgl', WASM_THREADS_BACKEND, 'wasm'] as const;

async function webgpuAdapterInfo(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<any> } }).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
}

let adapterName = '';

/**
 * Register the browser's tfjs backends as core BackendPlugins (core's own 'wasm' plugin
 * cannot find its .wasm files inside a bundle, so it is replaced by one that points tfjs at
 * the files Vite emitted). Model code never sees which one runs.
 */
export function registerBrowserBackends(): void {
  registerBackendPlugin({
    name: 'webgpu',
    priority: 30,
    async available() {
      if (!('gpu' in navigator)) return 'navigator.gpu is missing (this browser has no WebGPU, or it is switched off)';
      const name = await webgpuAdapterInfo().catch(() => null);
      if (name === null) return 'navigator.gpu.requestAdapter() gave no adapter';
      adapterName = name;
      return true;
    },
    async activate() {
      // The backend registers itself on import when navigator.gpu exists.
      await import('@tensorflow/tfjs-backend-webgpu');
      // Keep small ops on the GPU instead of reading them back for the CPU.
      tf.env().set('WEBGPU_CPU_FORWARD', false);
      if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise the webgpu backend');
      await tf.ready();
    },
    async describe() {
      return { adapter: adapterName };
    },
  });
  registerBackendPlugin({
    name: 'webgl',
    priority: 20,
    async available() {
      const canvas = document.createElement('canvas');
      return canvas.getContext('webgl2') || canvas.getContext('webgl') ? true : 'no WebGL context could be created';
    },
    async activate() {
      if (!(await tf.setBackend('webgl'))) throw new Error('tfjs could not initialise the webgl backend');
      await tf.ready();
    },
  });
  registerBackendPlugin({
    name: 'wasm',
    priority: 10,
    async available() {
      return typeof WebAssembly === 'object' ? true : 'WebAssembly is not available';
    },
    async activate() {
      // Single-threaded on purpose: tfjs's own threaded start makes the workers' script from
      // the glue's source text, which a minifying bundler breaks ("e is not defined");
      // threads come from `wasm-mt` (wasm-threads-browser.ts), which starts them itself.
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      // Classifier guidance differentiates through convolutions: wasm lacks some gradient kernels.
      registerWasmTrainingKernels();
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
      });
      if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not initialise the wasm backend');
      await tf.ready();
    },
  });
  registerBackendPlugin(browserWasmThreadsPlugin);
}

/** Start `choice` ('auto' walks BROWSER_BACKEND_ORDER); says which backend runs and what was skipped. */
export async function startBrowserBackend(choice: string, log?: (line: string) => void): Promise<BackendChoice & { detail: string }> {
  const order = choice === 'auto' ? [...BROWSER_BACKEND_ORDER, 'cpu'] : [choice];
  const picked = await useBackend(order, log);
  const detail =
    picked.name === 'webgpu' && adapterName
      ? `webgpu (${adapterName})`
      : picked.name === WASM_THREADS_BACKEND
        ? `${WASM_THREADS_BACKEND} (${wasmThreadsInUse()} thread${wasmThreadsInUse() === 1 ? '' : 's'})`
        : picked.name;
  return { ...picked, detail };
}
