export * from './diffusion-types.js';
export * from './losses.js';
export * from './gaussian-diffusion.js';
export * from './create-gaussian-diffusion.js';
