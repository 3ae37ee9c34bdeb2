// Everything @adm/backends exports, in Node and in browsers (index.ts and index.browser.ts
// differ only in which plugins importing the package registers).
import { registerBackendPlugin } from '@adm/core';
import { tensorflowPlugin } from './tensorflow-plugin.js';
import { webgpuPlugin } from './webgpu-plugin.js';
import { wasmPlugin } from './wasm-plugin.js';
import { wasmThreadsPlugin } from './wasm-threads-plugin.js';
import { BROWSER_BACKEND_PLUGINS } from './browser/browser-plugins.js';

export { tensorflowPlugin } from './tensorflow-plugin.js';
export { webgpuPlugin, probeWebGpu, SWIFTSHADER_ICD, type WebGpuAdapterReport } from './webgpu-plugin.js';
export { wasmPlugin } from './wasm-plugin.js';
export { wasmThreadsPlugin, WASM_THREADS_BACKEND } from './wasm-threads-plugin.js';
export { registerThreadedWasmBackend, type ThreadedWasmModule } from './wasm/threaded-backend.js';
export { registerPreciseTrig, preciseSin } from './webgpu/precise-trig.js';
export { KernelScope, withScope } from './kernel-scope.js';
export { registerWasmTrainingKernels, type WasmKernelReport, type WasmKernelOptions } from './wasm/register-wasm-kernels.js';

/** Register the Node plugins of this package (done on importing it in Node; idempotent). */
export function registerAdmBackends(): void {
  registerBackendPlugin(tensorflowPlugin);
  registerBackendPlugin(webgpuPlugin);
  registerBackendPlugin(wasmPlugin);
  registerBackendPlugin(wasmThreadsPlugin);
}


export { browserWebgpuPlugin, browserWebglPlugin, browserWasmPlugin, BROWSER_BACKEND_PLUGINS } from './browser/browser-plugins.js';
export { setWasmPaths, bundledWasmPaths, wasmPathsInUse, type WasmPaths, type WasmFileName } from './browser/wasm-files.js';

/** Register the browser's plugins (done on importing the package in a browser bundle; they replace Node's by name). */
export function registerBrowserBackends(): void {
  for (const plugin of BROWSER_BACKEND_PLUGINS) registerBackendPlugin(plugin);
}
