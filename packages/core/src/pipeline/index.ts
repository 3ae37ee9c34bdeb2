export * from './sampling-loop.js';
export * from './pipeline-config.js';
export * from './model-loaders.js';
export * from './image-batch.js';
export * from './sampling-pipeline.js';
export * from './pipeline-module.js';
export * from './toy-networks.js';
