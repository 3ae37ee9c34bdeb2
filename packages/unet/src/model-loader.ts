// The one model loader: a folder path, a folder URL (http:, https:, file:) or the two files'
// URLs (what @adm/models-mnist exports) into the network its config.json describes, in Node
// and in browsers.
import { ConfigError, TensorFileError, parseSafetensors, type HostTensor } from '@adm/core';
import { createFromCheckedConfig, type CheckedModelConfig } from './create-model.js';
import { MAX_CONFIG_BYTES, parseModelConfig, type AdmNetwork } from './model-folder.js';
import type { ModelType } from './create-model.js';
import type { ModelFlags } from './model-flags.js';
import { modelFileLocations, notAModelFolder, readSourceFile, type ModelSource, type ModelSourceOptions, type SourceFile } from './model-source.js';
import { checkStateDict, loadStateDict } from './state-dict.js';

export interface LoadModelOptions extends ModelSourceOptions {
  /** The kinds of network the caller can use (e.g. ['unet', 'superres'] for a denoiser). */
  expect?: readonly ModelType[];
}

export interface LoadedModel {
  model: AdmNetwork;
  flags: ModelFlags;
  modelType: ModelType;
}

/** config.json's text as the model's flags, checked (model-folder.ts parseModelConfig); errors name the file. */
export function parseModelConfigText(text: string, file: string): { modelType: ModelType; flags: ModelFlags } {
  const { modelType, flags } = parseModelConfig(text, file);
  return { modelType, flags };
}

/**
 * Build the network from a model's two files (already read): the config is checked and
 * sized and the weights' names and shapes checked against it before any layer exists.
 */
export function modelFromFiles(config: SourceFile, weights: SourceFile, expect?: readonly ModelType[]): LoadedModel {
  return buildChecked(parseModelConfig(new TextDecoder().decode(config.bytes), config.name, expect), weights);
}

function buildChecked(checked: CheckedModelConfig, weights: SourceFile): LoadedModel {
  const file = parseSafetensors(weights.bytes, weights.name);
  const tensors = new Map<string, HostTensor>(file.names().map((n) => [n, file.get(n)]));
  checkStateDict(checked.plan.shapes, tensors, weights.name);
  const model = createFromCheckedConfig(checked, { init: 'zeros' });
  try {
    loadStateDict(model, tensors, weights.name);
  } catch (e) {
    model.dispose();
    throw e instanceof TensorFileError || e instanceof ConfigError ? e : new TensorFileError(weights.name, (e as Error).message);
  }
  return { model, flags: checked.flags, modelType: checked.modelType };
}

/**
 * Load a model from a folder path, a folder URL or {config, weights} URLs. The config is read
 * and checked first (a bad or missing one fetches no weights). In Node, http(s) files are
 * cached on disk (see ModelSourceOptions.cacheDir); in a browser they are fetched.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const where = modelFileLocations(source);
  const config = await readSourceFile(where.config, { ...options, maxBytes: MAX_CONFIG_BYTES }).catch(notAModelFolder);
  const checked = parseModelConfig(new TextDecoder().decode(config.bytes), config.name, options.expect);
  return buildChecked(checked, await readSourceFile(where.weights, options));
}
