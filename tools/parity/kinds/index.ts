import type { KindModule } from '../types.js';

/**
 * Kind handlers by case.json `kind` (guided-diffusion sets) or `metric` (eval set).
 * Loaded lazily so a case only pays for the packages it needs.
 */
export const KINDS: Record<string, () => Promise<KindModule>> = {
  // KIND-REGISTRY (one line per kind; keep sorted)
  classifier: () => import('./classifier.js'),
  classifier_training_step: () => import('./classifier-training-step.js'),
  diffusion_math: () => import('./diffusion-math.js'),
  schedule: () => import('./schedule.js'),
  superres_forward: () => import('./superres-forward.js'),
  timestep_sampler: () => import('./timestep-sampler.js'),
  training_step: () => import('./training-step.js'),
  unet_forward: () => import('./unet-forward.js'),
};
