import type { Classifier, Denoiser } from '../contracts/denoiser.js';
import { ConfigError } from '../errors.js';

/** A denoiser loaded from a model folder, with its config.json flags (guided-diffusion names). */
export interface LoadedDenoiser {
  denoiser: Denoiser;
  flags: Record<string, unknown>;
}

export interface LoadedClassifier {
  classifier: Classifier;
  flags: Record<string, unknown>;
}

export type DenoiserLoaderFn = (folder: string) => Promise<LoadedDenoiser>;
export type ClassifierLoaderFn = (folder: string) => Promise<LoadedClassifier>;

/**
 * What is bound under TOKENS.DenoiserLoader / ClassifierLoader, as a function: accepts a
 * function `(folder) => {model | denoiser | classifier, flags | config}` or an object with
 * a `load(folder)` method of the same result.
 */
export function asLoaderFn(bound: unknown, kind: 'denoiser' | 'classifier'): ((folder: string) => Promise<{ net: unknown; flags: Record<string, unknown> }>) | undefined {
  if (bound === undefined || bound === null) return undefined;
  const fn =
    typeof bound === 'function'
      ? (bound as (f: string) => Promise<unknown>)
      : typeof (bound as { load?: unknown }).load === 'function'
        ? (f: string) => (bound as { load(f: string): Promise<unknown> }).load(f)
        : undefined;
  if (!fn) throw new ConfigError(`TOKENS.${kind === 'denoiser' ? 'DenoiserLoader' : 'ClassifierLoader'}`, 'bound value is neither a function nor an object with load(folder)');
  return async (folder) => {
    const r = (await fn(folder)) as Record<string, unknown>;
    const net = r[kind] ?? r.model;
    const flags = (r.flags ?? r.config ?? {}) as Record<string, unknown>;
    if (!net) throw new ConfigError(folder, `the ${kind} loader returned no model`);
    return { net, flags };
  };
}
