// @adm/unet: the ADM network (guided-diffusion's UNetModel, SuperResModel) and the noisy
// classifier (EncoderUNetModel) on TensorFlow.js, loadable from guided-diffusion checkpoints.
export * from './unet-kwargs.js';
export * from './parameter-scope.js';
export * from './unet-model.js';
export * from './state-dict.js';
export { timestepEmbedding, timestepFrequencies } from './layers/timestep-embedding.js';
export * from './encoder-unet-model.js';
export * from './classifier-guidance.js';
export * from './superres-model.js';
export { resizeBilinear } from './layers/bilinear-resize.js';
export * from './model-flags.js';
export * from './parameter-plan.js';
export * from './create-model.js';
export * from './presets.js';
export * from './model-folder.js';
export * from './unet-module.js';
export * from './model-source.js';
export * from './model-loader.js';
