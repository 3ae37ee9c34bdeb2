import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';

/**
 * A TensorFlow.js backend as a plugin: registered by name, chosen at start-up by
 * preference. Model code never imports a backend; it uses whatever tf.getBackend() is.
 */
export interface BackendPlugin {
  /** Name users pass (--backend, ADM_BACKEND, pipeline JSON). */
  readonly name: string;
  /** Higher is preferred when no preference is given. */
  readonly priority: number;
  /** true when usable here, else a one-line reason with how to get it. */
  available(): Promise<true | string>;
  /** Register the tfjs backend (and any extra kernels) and make it current. */
  activate(): Promise<void>;
  /** Details for `adm info` (adapter, threads, versions). */
  describe?(): Promise<Record<string, string>>;
}

const plugins = new Map<string, BackendPlugin>();

export function registerBackendPlugin(plugin: BackendPlugin): void {
  plugins.set(plugin.name, plugin);
}

export function backendPlugins(): BackendPlugin[] {
  return [...plugins.values()].sort((a, b) => b.priority - a.priority);
}

registerBackendPlugin({
  name: 'cpu',
  priority: 0,
  async available() {
    return true;
  },
  async activate() {
    await tf.setBackend('cpu');
    await tf.ready();
  },
});

registerBackendPlugin({
  name: 'wasm',
  priority: 10,
  async available() {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      return true;
    } catch (e) {
      return `@tensorflow/tfjs-backend-wasm is not installed (npm install @tensorflow/tfjs-backend-wasm): ${(e as Error).message}`;
    }
  },
  async activate() {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not initialise the wasm backend');
    await tf.ready();
  },
});

export interface BackendChoice {
  name: string;
  /** One line per preferred backend that was skipped, with why. */
  skipped: string[];
}

/**
 * Activate the first available backend from `preference` (names, or "auto" for every
 * registered plugin by priority). Unknown names are an error naming the known ones.
 */
export async function useBackend(preference: string | readonly string[] = 'auto', log: (line: string) => void = () => {}): Promise<BackendChoice> {
  const wanted = (typeof preference === 'string' ? preference.split(',') : [...preference]).map((s) => s.trim()).filter(Boolean);
  const names: string[] = [];
  for (const w of wanted.length ? wanted : ['auto']) {
    if (w === 'auto') names.push(...backendPlugins().map((p) => p.name));
    else if (!plugins.has(w)) throw new ConfigError('backend', `unknown backend "${w}" (registered: ${[...plugins.keys()].join(', ')})`);
    else names.push(w);
  }
  const skipped: string[] = [];
  for (const name of [...new Set(names)]) {
    const p = plugins.get(name)!;
    const ok = await p.available();
    if (ok !== true) {
      skipped.push(`${name}: ${ok}`);
      log(`backend ${name} unavailable: ${ok}`);
      continue;
    }
    try {
      await p.activate();
      return { name, skipped };
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message}`);
      log(`backend ${name} failed to start: ${(e as Error).message}`);
    }
  }
  throw new ConfigError('backend', `none of the backends [${names.join(', ')}] could start:\n  ${skipped.join('\n  ')}`);
}
