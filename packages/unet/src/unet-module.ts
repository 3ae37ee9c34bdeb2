import { ContainerModule } from 'inversify';
import { TOKENS, type Classifier, type ClassifierLoader, type Denoiser, type DenoiserLoader } from '@adm/core';
import { loadModel } from './model-loader.js';

/** Loads denoisers (unet, superres) from model folders: a path, or an http(s)/file: URL (loadModel). */
export const modelFolderDenoiserLoader: DenoiserLoader = {
  async load(dir: string): Promise<Denoiser> {
    return (await loadModel(dir, { expect: ['unet', 'superres'] })).model as Denoiser;
  },
};

/** Loads noisy classifiers from model folders: a path, or an http(s)/file: URL (loadModel). */
export const modelFolderClassifierLoader: ClassifierLoader = {
  async load(dir: string): Promise<Classifier> {
    return (await loadModel(dir, { expect: ['classifier'] })).model as Classifier;
  },
};

/** Binds TOKENS.DenoiserLoader and TOKENS.ClassifierLoader to the model-folder loaders. */
export const unetModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.DenoiserLoader).toConstantValue(modelFolderDenoiserLoader);
  bind(TOKENS.ClassifierLoader).toConstantValue(modelFolderClassifierLoader);
});
