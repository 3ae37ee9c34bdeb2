import * as tf from '@tensorflow/tfjs';
import { AdmError, type BackendPlugin } from '@adm/core';
import { registerWasmTrainingKernels } from './wasm/register-wasm-kernels.js';
import { registerThreadedWasmBackend, type ThreadedWasmModule } from './wasm/threaded-backend.js';

/** Backend name of multithreaded wasm in Node. */
export const WASM_THREADS_BACKEND = 'wasm-mt';

/**
 * Multithreaded tfjs-backend-wasm in Node: the same XNNPACK kernels as `wasm` (and every
 * kernel @adm/backends adds to it), on tfjs's threaded SIMD build, with XNNPACK's thread
 * pool on `ADM_WASM_THREADS` threads (default: every core).
 *
 * tfjs switches wasm threads off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false there) and,
 * when forced, hands Emscripten a Blob URL for its pthread worker, which Node's Worker cannot
 * load. So this plugin starts the threaded module itself:
 * - the worker script (tfjs ships its text as `wasmWorkerContents`) is written once to a file
 *   in the temp folder, named after the tfjs version, and the main script is passed by path;
 * - tfjs's C++ caps the pool at half of `navigator.hardwareConcurrency` (Emscripten reads
 *   os.cpus() in Node): on a 2-core machine that is one thread, so os.cpus() reports
 *   2 x threads while the module starts (its static initialiser reads it once) and is put back;
 * - the module is wrapped in tfjs's own BackendWasm under another name, and every kernel
 *   registered for `wasm` is registered for it too (kernels reach the module through
 *   backend.wasm, which both share).
 * The pthread workers are unref'd by Emscripten, so they do not keep the process alive.
 */
export const wasmThreadsPlugin: BackendPlugin = {
  name: WASM_THREADS_BACKEND,
  // below `wasm`: `auto` keeps the single-threaded backend; ask for this one by name
  priority: 9,
  async available() {
    if (typeof process === 'undefined' || !process.versions?.node) return 'Node.js only (browsers run tfjs wasm threads themselves, given COOP/COEP headers)';
    if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      return `@tensorflow/tfjs-backend-wasm did not load (npm install @tensorflow/tfjs-backend-wasm): ${(e as Error).message.split('\n')[0]}`;
    }
    const n = await threadCount();
    return n >= 2 ? true : `one thread only (ADM_WASM_THREADS or the core count is ${n}); use wasm`;
  },
  async activate() {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    await registerThreadedBackend();
    if (!(await tf.setBackend(WASM_THREADS_BACKEND))) throw new AdmError(`tfjs could not initialise the ${WASM_THREADS_BACKEND} backend`);
    await tf.ready();
  },
  async describe() {
    const out: Record<string, string> = { threads: `${await threadCount()} requested (ADM_WASM_THREADS; default every core)` };
    const b = tf.engine().registry[WASM_THREADS_BACKEND] as unknown as { wasm?: WasmModule } | undefined;
    if (b?.wasm) out.threads = `${b.wasm.tfjs.getThreadsCount()} (XNNPACK pool)`;
    return out;
  },
};

type WasmModule = ThreadedWasmModule & { tfjs: Record<string, (...a: number[]) => number> };

async function threadCount(): Promise<number> {
  const env = process.env.ADM_WASM_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new AdmError(`ADM_WASM_THREADS: expected an integer from 1 to 8 (tfjs pre-creates 8 workers), got "${env}"`);
    return n;
  }
  const os = await import('node:os');
  return Math.min(8, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

let registered: Promise<void> | undefined;

function registerThreadedBackend(): Promise<void> {
  registered ??= (async () => {
    const [{ createRequire }, fs, os, path, wasmPkg] = await Promise.all([
      import('node:module'),
      import('node:fs'),
      import('node:os'),
      import('node:path'),
      import('@tensorflow/tfjs-backend-wasm'),
    ]);
    const threads = await threadCount();
    const require = createRequire(import.meta.url);
    const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    const mainScript = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
    const wasmBinary = path.join(pkgDir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
    for (const f of [mainScript, wasmBinary]) {
      if (!fs.existsSync(f)) throw new AdmError(`${WASM_THREADS_BACKEND}: ${f} is missing from @tensorflow/tfjs-backend-wasm (expected its threaded SIMD build)`);
    }
    const factory = require(mainScript) as (config: Record<string, unknown>) => Promise<WasmModule>;
    const { wasmWorkerContents } = require(path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
    const version = (require(path.join(pkgDir, 'package.json')) as { version: string }).version;
    // The worker text keeps "\n" escapes as real newlines inside string literals (tfjs
    // re-escapes them before making its Blob): do the same.
    const workerFile = path.join(os.tmpdir(), `adm-tfjs-wasm-${version}-threaded-simd.worker.cjs`);
    const workerText = wasmWorkerContents.replace(/\n/g, '\\n');
    if (!fs.existsSync(workerFile) || fs.readFileSync(workerFile, 'utf8') !== workerText) {
      const tmp = `${workerFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, workerText);
      fs.renameSync(tmp, workerFile);
    }

    // the CommonJS exports object: the one Emscripten's require('os') returns (the ESM namespace is read-only)
    const osCjs = require('node:os') as { cpus: typeof os.cpus };
    const cpus = osCjs.cpus;
    osCjs.cpus = () => {
      const c = cpus();
      return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]);
    };
    let module: WasmModule;
    try {
      module = await factory({
        locateFile: (p: string) => (p.endsWith('.worker.js') ? workerFile : p.endsWith('.wasm') ? wasmBinary : path.join(pkgDir, 'wasm-out', p)),
        mainScriptUrlOrBlob: mainScript,
      });
    } finally {
      osCjs.cpus = cpus;
    }
    registerThreadedWasmBackend(module, threads, WASM_THREADS_BACKEND, wasmPkg.BackendWasm as never);
  })();
  return registered;
}
