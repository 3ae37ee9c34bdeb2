// @adm/train: denoiser and classifier training (guided-diffusion's TrainLoop and
// scripts/classifier_train.py): timestep samplers, AdamW, EMA, datasets, checkpoints.
export * from './adamw.js';
export * from './ema.js';
export * from './pairwise-sum.js';
export * from './timestep-sampler.js';
export * from './uniform-sampler.js';
export * from './loss-second-moment-resampler.js';
export * from './named-schedule-sampler.js';
