import { ContainerModule } from 'inversify';
import { TOKENS, type Classifier, type ClassifierLoader, type Denoiser, type DenoiserLoader, type LoadedClassifier, type LoadedDenoiser } from '@adm/core';
import { loadModel } from './model-loader.js';

/** Loads denoisers (unet, superres) from model folders: a path, or an http(s)/file: URL (loadModel). */
export const modelFolderDenoiserLoader: DenoiserLoader = {
  async load(source: string): Promise<LoadedDenoiser> {
    const { model, flags } = await loadModel(source, { expect: ['unet', 'superres'] });
    return { denoiser: model as Denoiser, flags };
  },
};

/** Loads noisy classifiers from model folders: a path, or an http(s)/file: URL (loadModel). */
export const modelFolderClassifierLoader: ClassifierLoader = {
  async load(source: string): Promise<LoadedClassifier> {
    const { model, flags } = await loadModel(source, { expect: ['classifier'] });
    return { classifier: model as Classifier, flags };
  },
};

/** Binds TOKENS.DenoiserLoader and TOKENS.ClassifierLoader to the model-folder loaders. */
export const unetModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.DenoiserLoader).toConstantValue(modelFolderDenoiserLoader);
  bind(TOKENS.ClassifierLoader).toConstantValue(modelFolderClassifierLoader);
});
