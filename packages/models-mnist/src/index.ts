// @adm/models-mnist: the default models of `adm sample` and the web page, as @adm/unet model
// folders shipped in this package (config.json + model.safetensors).

/** Where one model folder's two files are: file: URLs in Node, asset URLs in a bundled page. */
export interface ModelFiles {
  /** The folder's config.json (model_type and guided-diffusion's flags). */
  readonly config: URL;
  /** The folder's model.safetensors (state_dict names, PyTorch layouts). */
  readonly weights: URL;
}

// Each URL is written out literally so that bundlers (Vite, webpack) emit the file as an asset.
/** The class-conditional MNIST ADM (28x28x1, 10 classes, learned sigmas, cosine schedule). */
export const mnistDenoiser: ModelFiles = {
  config: new URL('../mnist-unet/config.json', import.meta.url),
  weights: new URL('../mnist-unet/model.safetensors', import.meta.url),
};

/** The noisy MNIST classifier (EncoderUNet with an attention pool) for classifier guidance. */
export const mnistClassifier: ModelFiles = {
  config: new URL('../mnist-classifier/config.json', import.meta.url),
  weights: new URL('../mnist-classifier/model.safetensors', import.meta.url),
};

/** The folder holding a model's files (a file: URL in Node: pass it to fileURLToPath for a path). */
export function modelFolderOf(files: ModelFiles): URL {
  return new URL('.', files.config);
}
