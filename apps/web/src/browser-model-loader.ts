import { ConfigError, TensorFileError, parseSafetensors, type HostTensor, type LoadedClassifier, type LoadedDenoiser } from '@adm/core';
import { CONFIG_FILE, WEIGHTS_FILE, createFromFlags, loadStateDict, type AdmNetwork, type ModelFlags, type ModelType } from '@adm/unet';
import type { FetchedModelFolder } from './model-catalog.js';

/**
 * @adm/unet's model folders (config.json: model_type + guided-diffusion flags;
 * model.safetensors: state_dict names, PyTorch layouts) built from fetched bytes, since a
 * browser has no file system for loadModelFolder.
 */
function networkFromFolder(folder: FetchedModelFolder, expected: ModelType): { net: AdmNetwork; flags: ModelFlags } {
  const flags = folder.config as ModelFlags;
  const modelType = (flags.model_type ?? 'unet') as ModelType;
  if (modelType !== expected) {
    throw new ConfigError(`${folder.url}${CONFIG_FILE}: model_type`, `the page needs a "${expected}" model here, the folder holds ${JSON.stringify(modelType)}`);
  }
  const file = `${folder.url}${WEIGHTS_FILE}`;
  const st = parseSafetensors(folder.weights, file);
  const tensors = new Map<string, HostTensor>(st.names().map((n) => [n, st.get(n)]));
  const net = createFromFlags(modelType, flags, { init: 'zeros' });
  try {
    loadStateDict(net, tensors, file);
  } catch (e) {
    net.dispose();
    throw e instanceof TensorFileError || e instanceof ConfigError ? e : new TensorFileError(file, (e as Error).message);
  }
  return { net, flags };
}

export function denoiserFromFolder(folder: FetchedModelFolder): LoadedDenoiser {
  const { net, flags } = networkFromFolder(folder, 'unet');
  return { denoiser: net as LoadedDenoiser['denoiser'], flags };
}

export function classifierFromFolder(folder: FetchedModelFolder): LoadedClassifier {
  const { net, flags } = networkFromFolder(folder, 'classifier');
  return { classifier: net as LoadedClassifier['classifier'], flags };
}
