import * as tf from '@tensorflow/tfjs';
import type { BackendPlugin } from '@adm/core';
import { registerWasmTrainingKernels } from '../wasm/register-wasm-kernels.js';
import { wasmPathsInUse } from './wasm-files.js';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

let adapterName = '';

async function webgpuAdapterName(): Promise<string | null> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }) | undefined)?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
}

/** The browser's WebGPU (navigator.gpu) through @tensorflow/tfjs-backend-webgpu. */
export const browserWebgpuPlugin: BackendPlugin = {
  name: 'webgpu',
  priority: 30,
  async available() {
    if (!globalThis.navigator || !('gpu' in globalThis.navigator)) return 'navigator.gpu is missing (this browser has no WebGPU, or it is switched off)';
    const name = await webgpuAdapterName().catch(() => null);
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
};

/** WebGL 2 (or 1), tfjs's own backend. */
export const browserWebglPlugin: BackendPlugin = {
  name: 'webgl',
  priority: 20,
  async available() {
    if (typeof document === 'undefined') return 'no document to create a WebGL canvas in';
    const canvas = document.createElement('canvas');
    return canvas.getContext('webgl2') || canvas.getContext('webgl') ? true : 'no WebGL context could be created';
  },
  async activate() {
    if (!(await tf.setBackend('webgl'))) throw new Error('tfjs could not initialise the webgl backend');
    await tf.ready();
  },
};

/** tfjs-backend-wasm in the browser, single-threaded, with the training kernels guidance needs. */
export const browserWasmPlugin: BackendPlugin = {
  name: 'wasm',
  priority: 10,
  async available() {
    return typeof WebAssembly === 'object' ? true : 'WebAssembly is not available';
  },
  async activate() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // tfjs's own threaded start builds the workers' script from the glue's source text, which
    // minifying bundlers break; threads in a page need their own start (apps/web's wasm-mt).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // Classifier guidance differentiates through convolutions: wasm lacks some gradient kernels.
    registerWasmTrainingKernels();
    const paths = wasmPathsInUse();
    if (typeof paths === 'string') wasm.setWasmPaths(paths);
    else wasm.setWasmPaths(paths);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not initialise the wasm backend (are the .wasm files served? see setWasmPaths)');
    await tf.ready();
  },
};

/** The browser's order of preference (DESIGN.md: WebGPU, then WebGL, then WASM). */
export const BROWSER_BACKEND_PLUGINS: readonly BackendPlugin[] = [browserWebgpuPlugin, browserWebglPlugin, browserWasmPlugin];
