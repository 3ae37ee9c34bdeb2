import { ConfigError, TensorFileError } from '@adm/core';

/** One model offered on the page: a denoiser folder and, optionally, a noisy classifier folder. */
export interface CatalogModel {
  id: string;
  title: string;
  /** Folder URLs (relative to the catalog) holding config.json + model.safetensors. */
  denoiser: string;
  classifier?: string;
  /** Names of the classes, index = label. Empty for unconditional models without a classifier. */
  labels: string[];
  /** true for untrained, randomly initialised networks (structure demo only). */
  randomWeights: boolean;
  /** A line shown under the model picker. */
  note?: string;
}

export interface ModelCatalog {
  models: CatalogModel[];
}

function checkModel(m: unknown, i: number): CatalogModel {
  const where = `models/index.json models[${i}]`;
  if (typeof m !== 'object' || m === null) throw new ConfigError(where, 'expected an object');
  const o = m as Record<string, unknown>;
  for (const k of ['id', 'title', 'denoiser'] as const) {
    if (typeof o[k] !== 'string' || !o[k]) throw new ConfigError(`${where}.${k}`, 'expected a non-empty string');
  }
  if (o.classifier !== undefined && typeof o.classifier !== 'string') throw new ConfigError(`${where}.classifier`, 'expected a folder URL string');
  if (!Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string')) throw new ConfigError(`${where}.labels`, 'expected a list of class names');
  return {
    id: o.id as string,
    title: o.title as string,
    denoiser: o.denoiser as string,
    classifier: o.classifier as string | undefined,
    labels: o.labels as string[],
    randomWeights: o.randomWeights === true,
    note: typeof o.note === 'string' ? o.note : undefined,
  };
}

/** Validate a parsed models/index.json. */
export function parseCatalog(json: unknown): ModelCatalog {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as ModelCatalog).models)) {
    throw new ConfigError('models/index.json', 'expected {"models": [...]}');
  }
  const models = (json as { models: unknown[] }).models.map(checkModel);
  if (!models.length) throw new ConfigError('models/index.json models', 'the catalog lists no model');
  return { models };
}

async function fetchOk(url: string, fetchImpl: typeof fetch): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new TensorFileError(url, `cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) throw new TensorFileError(url, `HTTP ${res.status} ${res.statusText}`);
  return res;
}

export async function fetchCatalog(url: string, fetchImpl: typeof fetch = fetch): Promise<ModelCatalog> {
  const res = await fetchOk(url, fetchImpl);
  return parseCatalog(await res.json());
}
