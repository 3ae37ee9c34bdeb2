import * as tf from '@tensorflow/tfjs';

/** The part of a started tfjs threaded wasm module (Emscripten) that tfjs's BackendWasm uses. */
export interface ThreadedWasmModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, (...a: number[]) => number>;
}

type BackendWasmClass = new (module: never) => tf.KernelBackend;

/**
 * Makes a threaded tfjs wasm module started by its caller (Node: wasm-threads-plugin.ts; the
 * browser: apps/web) a tfjs backend named `name`: the same `module.tfjs` wrapper tfjs's own
 * init() builds, with the XNNPACK pool fixed at `threads`, then tfjs's BackendWasm around it
 * (its constructor creates the pool), and every kernel registered for `wasm` registered for
 * `name` too (kernels reach the module through backend.wasm). Returns the pool's thread count.
 */
export function registerThreadedWasmBackend(module: ThreadedWasmModule, threads: number, name: string, BackendWasm: BackendWasmClass): number {
  const init = module.cwrap('init_with_threads_count', null, ['number']);
  module.tfjs = {
    init: () => init(threads),
    initWithThreadsCount: () => init(threads),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  const backend = new BackendWasm(module as never);
  for (const k of tf.getKernelsForBackend('wasm')) {
    if (!tf.getKernel(k.kernelName, name)) tf.registerKernel({ ...k, backendName: name });
  }
  tf.registerBackend(name, () => backend, 1);
  return module.tfjs.getThreadsCount();
}
