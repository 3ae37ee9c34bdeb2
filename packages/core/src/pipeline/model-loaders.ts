import type { ClassifierLoader, DenoiserLoader, LoadedClassifier, LoadedDenoiser } from '../contracts/denoiser.js';
import { ConfigError } from '../errors.js';

export type DenoiserLoaderFn = (source: string) => Promise<LoadedDenoiser>;
export type ClassifierLoaderFn = (source: string) => Promise<LoadedClassifier>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What is bound under TOKENS.DenoiserLoader / ClassifierLoader (a DenoiserLoader object, or
 * the function its load is) as a function whose result is checked: {denoiser | classifier, flags}.
 */
export function asLoaderFn(bound: DenoiserLoader | DenoiserLoaderFn | undefined, kind: 'denoiser'): DenoiserLoaderFn | undefined;
export function asLoaderFn(bound: ClassifierLoader | ClassifierLoaderFn | undefined, kind: 'classifier'): ClassifierLoaderFn | undefined;
export function asLoaderFn(bound: unknown, kind: 'denoiser' | 'classifier'): ((source: string) => Promise<LoadedDenoiser | LoadedClassifier>) | undefined {
  if (bound === undefined || bound === null) return undefined;
  const token = `TOKENS.${kind === 'denoiser' ? 'DenoiserLoader' : 'ClassifierLoader'}`;
  const load =
    typeof bound === 'function'
      ? (bound as (s: string) => Promise<unknown>)
      : isRecord(bound) && typeof bound.load === 'function'
        ? (s: string) => (bound as { load(s: string): Promise<unknown> }).load(s)
        : undefined;
  if (!load) throw new ConfigError(token, 'the bound value is neither a loader object with load(source) nor a function of the source');
  return async (source) => {
    const r = await load(source);
    if (!isRecord(r) || !isRecord(r[kind]) || !isRecord(r.flags)) {
      throw new ConfigError(token, `load(${JSON.stringify(source)}) must resolve to {${kind}, flags} (the network and its config.json flags)`);
    }
    return r as unknown as LoadedDenoiser | LoadedClassifier;
  };
}
