import { ConfigError, parseSafetensors, type LoadedClassifier, type LoadedDenoiser } from '@adm/core';
import { EncoderUNetModel, UNetModel, loadStateDict, type EncoderUNetKwargs, type UNetKwargs } from '@adm/unet';
import type { FetchedModelFolder } from './model-catalog.js';

/**
 * Builds networks from fetched model-folder bytes (no file system in a browser):
 * config.json {"model": "UNetModel" | "EncoderUNetModel", "kwargs": {...constructor
 * keyword arguments...}, "diffusion": {...create_gaussian_diffusion flags...}} and
 * model.safetensors under guided-diffusion's state_dict names.
 */
function readConfig(folder: FetchedModelFolder, expected: 'UNetModel' | 'EncoderUNetModel') {
  const where = `${folder.url}config.json`;
  const { model, kwargs, diffusion } = folder.config as { model?: unknown; kwargs?: unknown; diffusion?: unknown };
  if (model !== expected) throw new ConfigError(`${where} model`, `expected "${expected}", got ${JSON.stringify(model)}`);
  if (typeof kwargs !== 'object' || kwargs === null) throw new ConfigError(`${where} kwargs`, 'expected the network\'s keyword arguments');
  if (diffusion !== undefined && (typeof diffusion !== 'object' || diffusion === null)) throw new ConfigError(`${where} diffusion`, 'expected create_gaussian_diffusion flags');
  return { kwargs, flags: (diffusion ?? {}) as Record<string, unknown> };
}

function loadWeights(net: UNetModel | EncoderUNetModel, folder: FetchedModelFolder): void {
  const file = `${folder.url}model.safetensors`;
  const st = parseSafetensors(folder.weights, file);
  loadStateDict(net, st.withPrefix(''), file);
}

export function denoiserFromFolder(folder: FetchedModelFolder): LoadedDenoiser {
  const { kwargs, flags } = readConfig(folder, 'UNetModel');
  const net = new UNetModel(kwargs as UNetKwargs, { init: 'zeros' });
  try {
    loadWeights(net, folder);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { denoiser: net, flags };
}

export function classifierFromFolder(folder: FetchedModelFolder): LoadedClassifier {
  const { kwargs, flags } = readConfig(folder, 'EncoderUNetModel');
  const net = new EncoderUNetModel(kwargs as EncoderUNetKwargs, { init: 'zeros' });
  try {
    loadWeights(net, folder);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { classifier: net, flags };
}
