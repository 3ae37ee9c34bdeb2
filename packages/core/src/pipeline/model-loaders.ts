import type { Classifier, Denoiser } from '../contracts/denoiser.js';
import { ConfigError } from '../errors.js';
import { readFileBytes } from '../io/node-files.js';

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
 * What is bound under TOKENS.DenoiserLoader / ClassifierLoader, as a function: accepts
 * core's loader contract (an object with `load(folder)` giving the network), or a function
 * of the folder; the result may also be `{model | denoiser | classifier, flags | config}`.
 * When no flags come with the network they are read from the folder's config.json.
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
    const bare = r && typeof r.apply === 'function' && typeof r.info === 'object';
    const net = bare ? r : (r?.[kind] ?? r?.model);
    if (!net) throw new ConfigError(folder, `the ${kind} loader returned no model`);
    const flags = bare ? await readFolderFlags(folder) : ((r.flags ?? r.config ?? (await readFolderFlags(folder))) as Record<string, unknown>);
    return { net, flags };
  };
}

/** A model folder's config.json (guided-diffusion flags); {} when there is none to read. */
async function readFolderFlags(folder: string): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(`${folder.replace(/\/+$/, '')}/config.json`);
  } catch {
    return {};
  }
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
  } catch (e) {
    throw new ConfigError(`${folder}/config.json`, `not valid JSON (${(e as Error).message})`);
  }
}
