import type { LoadedClassifier, LoadedDenoiser } from '@adm/core';
import { loadModel } from '@adm/unet';

/**
 * A catalog model's folders through @adm/unet's one loader (loadModel on the folder URL):
 * config.json is checked (every flag, the architecture's size) and the weights' names and
 * shapes against it before any layer is allocated; errors name the file's URL (and flag or
 * tensor). `fetchImpl` stands in for the browser's fetch in tests; no disk cache (a browser has
 * its own HTTP cache, and tests under Node must not fill the user's).
 */
export async function loadPageDenoiser(folderUrl: string, fetchImpl: typeof fetch = fetch): Promise<LoadedDenoiser> {
  const { model, flags } = await loadModel(folderUrl, { expect: ['unet'], fetch: fetchImpl, cacheDir: false });
  return { denoiser: model as LoadedDenoiser['denoiser'], flags };
}

export async function loadPageClassifier(folderUrl: string, fetchImpl: typeof fetch = fetch): Promise<LoadedClassifier> {
  const { model, flags } = await loadModel(folderUrl, { expect: ['classifier'], fetch: fetchImpl, cacheDir: false });
  return { classifier: model as LoadedClassifier['classifier'], flags };
}
