import * as tf from '@tensorflow/tfjs';
import { registerThreadedWasmBackend, registerWasmTrainingKernels, type ThreadedWasmModule } from '@adm/backends';
import type { BackendPlugin } from '@adm/core';
// The threaded SIMD Emscripten glue, twice: bundled (minified, run on the main thread) and as
// a verbatim static asset (`?url`: Vite copies it unchanged) that each pthread worker loads
// with importScripts. Both are the same source, so the wasm imports match.
import * as threadedGlue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedGlueUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import threadedWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

/** Backend name of multithreaded wasm in the browser (the same name as in Node). */
export const WASM_THREADS_BACKEND = 'wasm-mt';

/** `auto` picks wasm-mt from this many logical cores (navigator.hardwareConcurrency) on. */
export const AUTO_MIN_CORES = 4;

/** tfjs's glue pre-creates 8 pthread workers (PTHREAD_POOL_SIZE): more would spawn extra ones. */
const MAX_THREADS = 8;

/**
 * XNNPACK threads to ask for: the page's `?wasmThreads=N` (1 to 8) when given, else every
 * logical core the browser reports, at most 8.
 */
export function wantedWasmThreads(hardwareConcurrency: number | undefined, requested?: string | null): number {
  if (requested != null && requested !== '') {
    const r = Number(requested);
    if (!Number.isInteger(r) || r < 1 || r > MAX_THREADS) {
      throw new Error(`?wasmThreads: expected an integer from 1 to ${MAX_THREADS} (tfjs pre-creates ${MAX_THREADS} workers), got "${requested}"`);
    }
    return r;
  }
  const n = Math.floor(hardwareConcurrency ?? 1);
  return Math.max(1, Math.min(MAX_THREADS, Number.isFinite(n) ? n : 1));
}

function pageThreads(): number {
  const requested = typeof location === 'object' ? new URLSearchParams(location.search).get('wasmThreads') : null;
  return wantedWasmThreads(navigator.hardwareConcurrency, requested);
}

type ThreadedModule = ThreadedWasmModule;
type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** How long the module and its 8 pthread workers may take to start. */
const START_TIMEOUT_MS = 60_000;

let registered: Promise<void> | undefined;
let threadsInUse = 0;

/** Threads in the XNNPACK pool of the started `wasm-mt` backend (0 before it starts). */
export function wasmThreadsInUse(): number {
  return threadsInUse;
}

/**
 * tfjs-backend-wasm's threaded SIMD build, started by the page itself.
 *
 * tfjs's own init() hands Emscripten `new Blob(['var WasmBackendModuleThreadedSimd = ' +
 * factory.toString()])` as the script each pthread worker imports; once a bundler has minified
 * the factory its source refers to names outside itself ("e is not defined") and the workers
 * never start. Here the workers import the unminified glue file Vite serves verbatim, the
 * worker script is tfjs's `wasmWorkerContents` as a Blob URL (with tfjs's `\n` re-escaping),
 * and the module is wrapped in tfjs's own BackendWasm under the name `wasm-mt`, with every
 * kernel registered for `wasm` registered for it too (kernels reach the module through
 * `backend.wasm`, which both share).
 *
 * Thread count: tfjs's C++ sizes the pool from Emscripten's emscripten_num_logical_cores(),
 * i.e. navigator.hardwareConcurrency, halved. To get one thread per logical core (capped at
 * 8), navigator.hardwareConcurrency reads 2 x threads while the module starts and is put back
 * afterwards (an own property shadowing Navigator.prototype's getter), as the Node plugin
 * does with os.cpus(). getThreadsCount() afterwards says what XNNPACK really has.
 */
export const browserWasmThreadsPlugin: BackendPlugin = {
  name: WASM_THREADS_BACKEND,
  priority: 11,
  async available(context) {
    if (typeof WebAssembly !== 'object') return 'WebAssembly is not available';
    if (typeof SharedArrayBuffer === 'undefined' || globalThis.crossOriginIsolated !== true) {
      return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so SharedArrayBuffer is missing; use wasm';
    }
    // the package registers the WASM_HAS_SIMD_SUPPORT flag (a feature probe) on import
    await import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').catch(() => false);
    if (!simd) return 'this browser has no WebAssembly SIMD (the threaded build needs it); use wasm';
    // With fewer than 4 logical cores the pool's threads compete with the page's own (and on
    // a busy 2-core machine a UNet step ran 2x slower on 2 threads than on 1): `auto` keeps
    // single-threaded wasm there; asked for by name, wasm-mt still starts.
    const cores = navigator.hardwareConcurrency ?? 1;
    if (!context?.explicit && cores < AUTO_MIN_CORES) return `${cores} logical cores (auto uses threads from ${AUTO_MIN_CORES}); choose wasm-mt to use them anyway`;
    return true;
  },
  async activate() {
    // The wasm package registers the `wasm` backend and its kernels on import.
    await import('@tensorflow/tfjs-backend-wasm');
    // Classifier guidance differentiates through convolutions: wasm lacks some gradient kernels.
    registerWasmTrainingKernels();
    await registerThreadedBackend();
    if (!(await tf.setBackend(WASM_THREADS_BACKEND))) throw new Error(`tfjs could not initialise the ${WASM_THREADS_BACKEND} backend`);
    await tf.ready();
  },
  async describe() {
    return { threads: threadsInUse ? `${threadsInUse} (XNNPACK pool)` : `${pageThreads()} requested` };
  },
};

function registerThreadedBackend(): Promise<void> {
  registered ??= (async () => {
    const wasmPkg = await import('@tensorflow/tfjs-backend-wasm');
    const factory = ((threadedGlue as unknown as { default?: Factory }).default ?? threadedGlue) as unknown as Factory;
    const threads = pageThreads();
    // Absolute URLs: the workers run from blob: URLs, against which relative ones do not resolve.
    const glueHref = new URL(threadedGlueUrl, document.baseURI).href;
    const wasmHref = new URL(threadedWasmUrl, document.baseURI).href;
    const workerHref = URL.createObjectURL(new Blob([wasmWorkerContents.replace(/\n/g, '\\n')], { type: 'application/javascript' }));

    const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
    Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
    let module: ThreadedModule;
    try {
      // A worker that cannot load the glue leaves Emscripten waiting for ever: give up loudly.
      module = await new Promise<ThreadedModule>((resolve, reject) => {
        const where = `its workers load ${glueHref} and ${wasmHref}`;
        const timer = setTimeout(() => reject(new Error(`the threaded wasm module did not start within ${START_TIMEOUT_MS / 1000} s (${where})`)), START_TIMEOUT_MS);
        factory({
          locateFile: (p: string, prefix: string) => (p.endsWith('.worker.js') ? workerHref : p.endsWith('.wasm') ? wasmHref : prefix + p),
          mainScriptUrlOrBlob: glueHref,
          onAbort: (what: unknown) => reject(new Error(`the threaded wasm module aborted: ${String(what)} (${where})`)),
        }).then(resolve, reject).finally(() => clearTimeout(timer));
      });
      // the backend is built now (its constructor creates the pool) while the count is patched
      threadsInUse = registerThreadedWasmBackend(module, threads, WASM_THREADS_BACKEND, wasmPkg.BackendWasm as never);
    } finally {
      if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
      else delete (navigator as unknown as Record<string, unknown>).hardwareConcurrency;
    }
  })();
  return registered;
}
