// @adm/train: denoiser and classifier training (guided-diffusion's TrainLoop and
// scripts/classifier_train.py): timestep samplers, AdamW, EMA, datasets, checkpoints.
export * from './adamw.js';
export * from './ema.js';
export * from './pairwise-sum.js';
export * from './timestep-sampler.js';
export * from './uniform-sampler.js';
export * from './loss-second-moment-resampler.js';
export * from './named-schedule-sampler.js';
export * from './training-diffusion.js';
export * from './gradients.js';
export * from './comparison-gradients.js';
export * from './image-dataset.js';
export * from './mnist-dataset.js';
export * from './npz-dataset.js';
export * from './checkpoint-store.js';
export * from './metrics-log.js';
export * from './progress-bar.js';
export * from './training-state.js';
export * from './run-loop.js';
export * from './train-loop.js';
export * from './classifier-train-loop.js';
