import { ConfigError, describeValue, writeFileAtomic, writeSafetensorsFile, type HostTensor } from '@adm/core';
import {
  checkModelConfig,
  createClassifierKwargs,
  createModelKwargs,
  createSuperResModelKwargs,
  resolvedFlags,
  type CheckedModelConfig,
  type ModelType,
} from './create-model.js';
import { EncoderUNetModel } from './encoder-unet-model.js';
import type { ModelFlags } from './model-flags.js';
import { stateDict } from './state-dict.js';
import { loadModel } from './model-loader.js';
import { modelFileLocations, notAModelFolder, readSourceFile } from './model-source.js';
import { SuperResModel } from './superres-model.js';
import { UNetModel } from './unet-model.js';
import { resolveEncoderKwargs, resolveUNetKwargs, type EncoderUNetKwargs, type UNetKwargs } from './unet-kwargs.js';

/** Any network this package builds. */
export type AdmNetwork = UNetModel | SuperResModel | EncoderUNetModel;

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** The model_type of a network instance. */
export function modelTypeOf(model: AdmNetwork): ModelType {
  if (model instanceof SuperResModel) return 'superres';
  if (model instanceof EncoderUNetModel) return 'classifier';
  return 'unet';
}

function kwargsFor(modelType: ModelType, flags: ModelFlags): unknown {
  if (modelType === 'classifier') return createClassifierKwargs(flags);
  if (modelType === 'superres') return createSuperResModelKwargs(flags);
  return createModelKwargs(flags);
}

function modelKwargs(model: AdmNetwork): unknown {
  return model instanceof SuperResModel ? model.superResKwargs : model.kwargs;
}

/** Kwargs compared after filling defaults, so {dropout: 0} and no dropout agree. */
function canonical(modelType: ModelType, kwargs: unknown): string {
  const resolved = modelType === 'classifier' ? resolveEncoderKwargs(kwargs as EncoderUNetKwargs) : resolveUNetKwargs(kwargs as UNetKwargs);
  return JSON.stringify(resolved, Object.keys(resolved).sort());
}

/**
 * Save a model folder: config.json (model_type and guided-diffusion's flags, every
 * default filled in) + model.safetensors (state_dict names, PyTorch layouts). The flags
 * must describe the model's architecture (checked). Each file is written atomically, the
 * weights first, so a folder whose config.json is new always has matching weights.
 */
export async function saveModelFolder(dir: string, model: AdmNetwork, flags: ModelFlags): Promise<void> {
  const modelType = modelTypeOf(model);
  if (flags.model_type !== undefined && flags.model_type !== modelType) {
    throw new ConfigError('model_type', `flags say ${describeValue(flags.model_type)} but the model is a ${modelType}`);
  }
  const config = resolvedFlags(modelType, flags);
  if (canonical(modelType, kwargsFor(modelType, config)) !== canonical(modelType, modelKwargs(model))) {
    throw new ConfigError('flags', `the flags do not describe this ${modelType}'s architecture (flags give ${JSON.stringify(kwargsFor(modelType, config))}, the model has ${JSON.stringify(modelKwargs(model))})`);
  }
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  await saveStateDictFile(join(dir, WEIGHTS_FILE), stateDict(model), modelType);
  await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** Write a state_dict as safetensors (metadata format "pt": PyTorch layouts). */
export async function saveStateDictFile(path: string, tensors: Map<string, HostTensor>, modelType: ModelType): Promise<void> {
  await writeSafetensorsFile(path, tensors, { format: 'pt', model_type: modelType });
}

/** The largest config.json read (guided-diffusion's are about 1 KB). */
export const MAX_CONFIG_BYTES = 1 << 20;

/**
 * A config.json's text as a checked model config (checkModelConfig: every flag's type and
 * range, the architecture's size), `expect`ed kinds only; errors name `file`.
 */
export function parseModelConfig(text: string, file: string, expect?: readonly ModelType[]): CheckedModelConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, `${text.length} characters; a model config is at most ${MAX_CONFIG_BYTES} bytes`);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
  return checkModelConfig(config, file, expect);
}

/** Read and check a model folder's config.json (a path, or a folder URL as loadModel takes). */
export async function readModelConfig(dir: string, expect?: readonly ModelType[]): Promise<{ modelType: ModelType; flags: ModelFlags }> {
  const where = modelFileLocations(dir);
  const config = await readSourceFile(where.config, { maxBytes: MAX_CONFIG_BYTES }).catch(notAModelFolder);
  const checked = parseModelConfig(new TextDecoder().decode(config.bytes), config.name, expect);
  return { modelType: checked.modelType, flags: checked.flags };
}

/**
 * Load a model folder into the network its config.json describes: loadModel(dir), the one
 * loader (the config is checked and sized, and the weights' names and shapes checked
 * against it, before any layer exists).
 */
export async function loadModelFolder(dir: string, expect?: readonly ModelType[]): Promise<{ model: AdmNetwork; flags: ModelFlags; modelType: ModelType }> {
  return loadModel(dir, { expect });
}

/** Load a folder and check it holds the kind of network expected. */
export async function loadModelFolderAs<T extends ModelType>(dir: string, expected: readonly T[]): Promise<AdmNetwork> {
  return (await loadModelFolder(dir, expected)).model;
}
