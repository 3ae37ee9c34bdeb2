import { ContainerModule } from 'inversify';
import { TOKENS, type Classifier, type ClassifierLoader, type Denoiser, type DenoiserLoader } from '@adm/core';
import { loadModelFolderAs } from './model-folder.js';

/** Loads denoisers (unet, superres) from model folders. */
export const modelFolderDenoiserLoader: DenoiserLoader = {
  async load(dir: string): Promise<Denoiser> {
    return (await loadModelFolderAs(dir, ['unet', 'superres'])) as Denoiser;
  },
};

/** Loads noisy classifiers from model folders. */
export const modelFolderClassifierLoader: ClassifierLoader = {
  async load(dir: string): Promise<Classifier> {
    return (await loadModelFolderAs(dir, ['classifier'])) as Classifier;
  },
};

/** Binds TOKENS.DenoiserLoader and TOKENS.ClassifierLoader to the model-folder loaders. */
export const unetModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.DenoiserLoader).toConstantValue(modelFolderDenoiserLoader);
  bind(TOKENS.ClassifierLoader).toConstantValue(modelFolderClassifierLoader);
});
