// @adm/backends: the tfjs backends a user can have, as plugins of @adm/core's registry.
// Importing this module registers them (core's useBackend imports it when installed), so
// model code never imports a backend: it asks for a preference and uses tf.getBackend().
import { registerBackendPlugin } from '@adm/core';
import { tensorflowPlugin } from './tensorflow-plugin.js';
import { webgpuPlugin } from './webgpu-plugin.js';
import { wasmPlugin } from './wasm-plugin.js';
import { wasmThreadsPlugin } from './wasm-threads-plugin.js';

export { tensorflowPlugin } from './tensorflow-plugin.js';
export { webgpuPlugin, probeWebGpu, SWIFTSHADER_ICD, type WebGpuAdapterReport } from './webgpu-plugin.js';
export { wasmPlugin } from './wasm-plugin.js';
export { wasmThreadsPlugin, WASM_THREADS_BACKEND } from './wasm-threads-plugin.js';
export { registerThreadedWasmBackend, type ThreadedWasmModule } from './wasm/threaded-backend.js';
export { registerPreciseTrig, preciseSin } from './webgpu/precise-trig.js';
export { KernelScope, withScope } from './kernel-scope.js';
export { registerWasmTrainingKernels, type WasmKernelReport, type WasmKernelOptions } from './wasm/register-wasm-kernels.js';

/** Register every plugin of this package (done on import; idempotent). */
export function registerAdmBackends(): void {
  registerBackendPlugin(tensorflowPlugin);
  registerBackendPlugin(webgpuPlugin);
  registerBackendPlugin(wasmPlugin);
  registerBackendPlugin(wasmThreadsPlugin);
}

registerAdmBackends();
