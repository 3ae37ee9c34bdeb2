export * from './noise-schedule.js';
export * from './denoiser.js';
export * from './guidance.js';
export * from './sampler.js';
