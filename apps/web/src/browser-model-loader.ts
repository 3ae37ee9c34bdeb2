import { ConfigError, TensorFileError, parseSafetensors, type HostTensor, type LoadedClassifier, type LoadedDenoiser } from '@adm/core';
import { CONFIG_FILE, WEIGHTS_FILE, checkModelConfig, checkStateDict, createFromCheckedConfig, loadStateDict, type AdmNetwork, type ModelFlags, type ModelType } from '@adm/unet';
import type { FetchedModelFolder } from './model-catalog.js';

/**
 * @adm/unet's model folders (config.json: model_type + guided-diffusion flags;
 * model.safetensors: state_dict names, PyTorch layouts) built from fetched bytes, since a
 * browser has no file system for loadModelFolder. The config is checked (every flag, the
 * architecture's size) and the weights' names and shapes checked against it before any
 * layer is allocated; errors name the file (and flag or tensor).
 */
function networkFromFolder(folder: FetchedModelFolder, expected: ModelType): { net: AdmNetwork; flags: ModelFlags } {
  const configFile = `${folder.url}${CONFIG_FILE}`;
  if (folder.config.model_type !== undefined && folder.config.model_type !== expected) {
    const held = typeof folder.config.model_type === 'string' ? `a "${folder.config.model_type.slice(0, 40)}" model` : 'no valid model_type';
    throw new ConfigError(`${configFile}: model_type`, `the page needs a "${expected}" model here, the folder holds ${held}`);
  }
  const config = checkModelConfig(folder.config, configFile, [expected]);
  const file = `${folder.url}${WEIGHTS_FILE}`;
  const st = parseSafetensors(folder.weights, file);
  const tensors = new Map<string, HostTensor>(st.names().map((n) => [n, st.get(n)]));
  checkStateDict(config.plan.shapes, tensors, file);
  const net = createFromCheckedConfig(config, { init: 'zeros' });
  try {
    loadStateDict(net, tensors, file);
  } catch (e) {
    net.dispose();
    throw e instanceof TensorFileError || e instanceof ConfigError ? e : new TensorFileError(file, (e as Error).message);
  }
  return { net, flags: config.flags };
}

export function denoiserFromFolder(folder: FetchedModelFolder): LoadedDenoiser {
  const { net, flags } = networkFromFolder(folder, 'unet');
  return { denoiser: net as LoadedDenoiser['denoiser'], flags };
}

export function classifierFromFolder(folder: FetchedModelFolder): LoadedClassifier {
  const { net, flags } = networkFromFolder(folder, 'classifier');
  return { classifier: net as LoadedClassifier['classifier'], flags };
}
