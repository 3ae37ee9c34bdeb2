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
  /**
   * true when usable here, else a one-line reason with how to get it. `explicit` is true
   * when the user named this backend (a plugin may decline to be picked by "auto", e.g. a
   * WebGPU backend whose only adapter is a slow software fallback).
   */
  available(context?: { explicit: boolean }): Promise<true | string>;
  /** Register the tfjs backend (and any extra kernels) and make it current. */
  activate(): Promise<void>;
  /** Details for `adm info` (adapter, threads, versions). */
  describe?(): Promise<Record<string, string>>;
}

/**
 * One registry per process, kept on globalThis: the ESM and the CommonJS copies of this
 * package (a program that both imports and requires it) must see the same plugins.
 */
const REGISTRY = Symbol.for('adm.backendPlugins');
const plugins: Map<string, BackendPlugin> = ((globalThis as Record<symbol, unknown>)[REGISTRY] as Map<string, BackendPlugin> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY] = new Map<string, BackendPlugin>());

/** Register (or replace, by name) a backend plugin. */
export function registerBackendPlugin(plugin: BackendPlugin): void {
  plugins.set(plugin.name, plugin);
}

/**
 * Packages that register backend plugins when imported (optional peer dependencies of this
 * package: core alone has only the `cpu` backend; @adm/backends adds wasm, wasm-mt and
 * webgpu, @adm/native the oneDNN `native` one). One that is not installed is skipped
 * silently; one that fails to load is reported by useBackend. Extra modules can be named in
 * ADM_BACKEND_MODULES (comma-separated).
 */
export const BACKEND_PLUGIN_MODULES: readonly string[] = ['@adm/backends', '@adm/native'];

/** Which optional package brings each backend the toolkit knows of (for the error when it is missing). */
const PLUGIN_PACKAGE_OF: Record<string, string> = {
  wasm: '@adm/backends',
  'wasm-mt': '@adm/backends',
  webgpu: '@adm/backends',
  tensorflow: '@adm/backends',
  native: '@adm/native',
};

let discovery: Promise<string[]> | undefined;

function envVar(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] : undefined;
}

function isNotFound(e: unknown, spec: string): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') return (err.message ?? '').includes(spec);
  return /Cannot find (module|package)|Failed to (resolve|load url)/.test(err?.message ?? '') && (err.message ?? '').includes(spec);
}

/**
 * Import every installed plugin package once (so `useBackend('webgpu')` works in any
 * program without it importing @adm/backends itself). Returns one line per package that is
 * installed but failed to load.
 */
export function loadBackendPluginModules(): Promise<string[]> {
  discovery ??= (async () => {
    const extra = (envVar('ADM_BACKEND_MODULES') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const problems: string[] = [];
    for (const spec of [...new Set([...BACKEND_PLUGIN_MODULES, ...extra])]) {
      try {
        await import(/* @vite-ignore */ spec);
      } catch (e) {
        if (!isNotFound(e, spec)) problems.push(`${spec} failed to load: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return problems;
  })();
  return discovery;
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

export interface BackendChoice {
  name: string;
  /** One line per preferred backend that was skipped, with why. */
  skipped: string[];
}

/**
 * The backend preference in force: the command-line flag, else the ADM_BACKEND environment
 * variable, else the pipeline JSON's `backend`, else "auto".
 */
export function backendPreference(sources: { flag?: string; pipeline?: string | readonly string[] } = {}): string | readonly string[] {
  return sources.flag || envVar('ADM_BACKEND') || sources.pipeline || 'auto';
}

/**
 * Activate the first available backend from `preference` (names, or "auto" for every
 * registered plugin by priority; default: ADM_BACKEND, else "auto"). Unknown names are an
 * error naming the known ones.
 */
export async function useBackend(preference?: string | readonly string[], log: (line: string) => void = () => {}): Promise<BackendChoice> {
  const loadProblems = await loadBackendPluginModules();
  const pref = preference ?? backendPreference();
  const wanted = (typeof pref === 'string' ? pref.split(',') : [...pref]).map((s) => s.trim()).filter(Boolean);
  const names: string[] = [];
  const explicit = new Set<string>();
  for (const w of wanted.length ? wanted : ['auto']) {
    if (w === 'auto') names.push(...backendPlugins().map((p) => p.name));
    else if (!plugins.has(w)) {
      const why = loadProblems.length ? `; ${loadProblems.join('; ')}` : '';
      const from = PLUGIN_PACKAGE_OF[w];
      const hint = from ? `; the ${w} backend comes with ${from} (npm install ${from})` : '';
      throw new ConfigError('backend', `unknown backend "${w}" (registered: ${[...plugins.keys()].join(', ')})${hint}${why}`);
    } else {
      names.push(w);
      explicit.add(w);
    }
  }
  const skipped: string[] = [];
  for (const name of [...new Set(names)]) {
    const p = plugins.get(name)!;
    const ok = await p.available({ explicit: explicit.has(name) });
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
