// @adm/core: contracts (interfaces + DI tokens), tensor I/O, seeded randomness, backend
// selection, and the Gaussian diffusion process.
export * from './errors.js';
export * from './random.js';
export * from './tokens.js';
export * from './container.js';
export * from './backend.js';
export * from './contracts/index.js';
export * from './io/dtypes.js';
export * from './io/safetensors.js';
export * from './io/node-files.js';
export * from './io/zip.js';
export * from './io/npy.js';
export * from './tensor-utils.js';
// DIFFUSION-EXPORTS
export * from './diffusion/index.js';
// PT-EXPORTS
export * from './io/torch/restricted-unpickler.js';
export * from './io/torch/torch-checkpoint.js';
// PIPELINE-EXPORTS
export * from './pipeline/index.js';
export * from './io/png.js';
export * from './kernels/group-norm.js';
export * from './lean-gradients.js';
