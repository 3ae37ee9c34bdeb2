import { registerBackendPlugin, useBackend, type BackendChoice } from '@adm/core';
import { browserWebgpuPlugin, registerBrowserBackends as registerPackageBrowserBackends, setWasmPaths } from '@adm/backends';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { browserWasmThreadsPlugin, WASM_THREADS_BACKEND, wasmThreadsInUse } from './wasm-threads-browser.js';

/**
 * The browser's order of preference (DESIGN.md: WebGPU, then WebGL, then WASM): threaded
 * WASM when the page is cross-origin isolated, else single-threaded.
 */
export const BROWSER_BACKEND_ORDER = ['webgpu', 'webgl', WASM_THREADS_BACKEND, 'wasm'] as const;

/**
 * Register the browser's tfjs backends (@adm/backends' browser plugins: WebGPU, WebGL,
 * wasm) plus the page's own threaded wasm (`wasm-mt`). The page runs @adm/backends from
 * source, where the package's dist/wasm/ copies do not exist, so it points the wasm backend
 * at the files Vite emits for these imports.
 */
export function registerBrowserBackends(): void {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
  });
  registerPackageBrowserBackends();
  registerBackendPlugin(browserWasmThreadsPlugin);
}

/** Start `choice` ('auto' walks BROWSER_BACKEND_ORDER); says which backend runs and what was skipped. */
export async function startBrowserBackend(choice: string, log?: (line: string) => void): Promise<BackendChoice & { detail: string }> {
  const order = choice === 'auto' ? [...BROWSER_BACKEND_ORDER, 'cpu'] : [choice];
  const picked = await useBackend(order, log);
  const detail =
    picked.name === 'webgpu'
      ? `webgpu (${(await browserWebgpuPlugin.describe?.())?.adapter ?? 'adapter'})`
      : picked.name === WASM_THREADS_BACKEND
        ? `${WASM_THREADS_BACKEND} (${wasmThreadsInUse()} thread${wasmThreadsInUse() === 1 ? '' : 's'})`
        : picked.name;
  return { ...picked, detail };
}
