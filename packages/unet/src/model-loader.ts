// The one model loader: a folder path, a folder URL (http:, https:, file:) or the two files'
// URLs (what @adm/models-mnist exports) into the network its config.json describes, in Node
// and in browsers.
import { ConfigError, TensorFileError, parseSafetensors, type HostTensor } from '@adm/core';
import { createFromFlags } from './create-model.js';
import type { AdmNetwork } from './model-folder.js';
import type { ModelType } from './create-model.js';
import type { ModelFlags } from './model-flags.js';
import { readModelSource, type ModelSource, type ModelSourceOptions, type SourceFile } from './model-source.js';
import { loadStateDict } from './state-dict.js';

export interface LoadModelOptions extends ModelSourceOptions {
  /** The kinds of network the caller can use (e.g. ['unet', 'superres'] for a denoiser). */
  expect?: readonly ModelType[];
}

export interface LoadedModel {
  model: AdmNetwork;
  flags: ModelFlags;
  modelType: ModelType;
}

/** config.json's text as the model's flags, checked; errors name the file. */
export function parseModelConfigText(text: string, file: string): { modelType: ModelType; flags: ModelFlags } {
  let flags: unknown;
  try {
    flags = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) throw new ConfigError(file, 'expected a JSON object of flags');
  const modelType = Object.hasOwn(flags, 'model_type') ? (flags as { model_type: unknown }).model_type : 'unet';
  if (modelType !== 'unet' && modelType !== 'superres' && modelType !== 'classifier') {
    throw new ConfigError(`${file}: model_type`, `expected "unet", "superres" or "classifier", got ${typeof modelType === 'string' ? JSON.stringify(modelType.slice(0, 40)) : typeof modelType}`);
  }
  return { modelType, flags: flags as ModelFlags };
}

/** Build the network from a model's two files (already read). */
export function modelFromFiles(config: SourceFile, weights: SourceFile, expect?: readonly ModelType[]): LoadedModel {
  const { modelType, flags } = parseModelConfigText(new TextDecoder().decode(config.bytes), config.name);
  if (expect && !expect.includes(modelType)) {
    throw new ConfigError(`${config.name}: model_type`, `holds a ${modelType} model, expected ${expect.join(' or ')}`);
  }
  const file = parseSafetensors(weights.bytes, weights.name);
  const tensors = new Map<string, HostTensor>(file.names().map((n) => [n, file.get(n)]));
  const model = createFromFlags(modelType, flags, { init: 'zeros' });
  try {
    loadStateDict(model, tensors, weights.name);
  } catch (e) {
    model.dispose();
    throw e instanceof TensorFileError || e instanceof ConfigError ? e : new TensorFileError(weights.name, (e as Error).message);
  }
  return { model, flags, modelType };
}

/**
 * Load a model from a folder path, a folder URL or {config, weights} URLs. In Node, http(s)
 * files are cached on disk (see ModelSourceOptions.cacheDir); in a browser they are fetched.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { config, weights } = await readModelSource(source, options);
  return modelFromFiles(config, weights, options.expect);
}
