import * as tf from '@tensorflow/tfjs';
import type { BackendPlugin } from '@adm/core';

/** The optional peers, best first. Each registers the 'tensorflow' tfjs backend. */
const PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const INSTALL_HINT =
  'TensorFlow native bindings are not installed: run `npm install @tensorflow/tfjs-node-gpu` (CUDA) or `npm install @tensorflow/tfjs-node` (CPU) on a machine with internet access (their install downloads libtensorflow)';

let loaded: Promise<{ pkg?: string; reason?: string }> | undefined;

function load(): Promise<{ pkg?: string; reason?: string }> {
  loaded ??= (async () => {
    if (typeof process === 'undefined' || !process.versions?.node) return { reason: 'tfjs-node runs only in Node.js' };
    const failures: string[] = [];
    for (const pkg of PACKAGES) {
      try {
        // A variable specifier: these are optional peers, absent from most installs.
        const spec: string = pkg;
        await import(/* @vite-ignore */ spec);
        return { pkg };
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0];
        if (!/Cannot find (module|package)/.test(msg) && (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') failures.push(`${pkg}: ${msg}`);
      }
    }
    return { reason: failures.length ? `tfjs-node is installed but did not load (${failures.join('; ')})` : INSTALL_HINT };
  })();
  return loaded;
}

export const tensorflowPlugin: BackendPlugin = {
  name: 'tensorflow',
  priority: 40,
  async available() {
    const { pkg, reason } = await load();
    return pkg ? true : (reason ?? INSTALL_HINT);
  },
  async activate() {
    const { pkg, reason } = await load();
    if (!pkg) throw new Error(reason);
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but the 'tensorflow' backend did not initialise`);
    await tf.ready();
  },
  async describe() {
    const { pkg } = await load();
    const out: Record<string, string> = {};
    if (pkg) out.package = pkg;
    return out;
  },
};
