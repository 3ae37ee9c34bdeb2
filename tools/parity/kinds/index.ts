import type { KindModule } from '../types.js';

/**
 * Kind handlers by case.json `kind` (guided-diffusion sets) or `metric` (eval set).
 * Loaded lazily so a case only pays for the packages it needs.
 */
export const KINDS: Record<string, () => Promise<KindModule>> = {
  // KIND-REGISTRY (one line per kind; keep sorted)
  checkpoint_pt: () => import('./checkpoint-pt.js'),
  classifier: () => import('./classifier.js'),
  classifier_training_step: () => import('./classifier-training-step.js'),
  ddim_guided: () => import('./ddim-guided.js'),
  ddpm_guided: () => import('./ddpm-guided.js'),
  diffusion_math: () => import('./diffusion-math.js'),
  fid: () => import('./fid.js'),
  inception_fid: () => import('./inception-fid.js'),
  inception_score: () => import('./inception-score.js'),
  precision_recall: () => import('./precision-recall.js'),
  schedule: () => import('./schedule.js'),
  sfid: () => import('./sfid.js'),
  superres_forward: () => import('./superres-forward.js'),
  timestep_sampler: () => import('./timestep-sampler.js'),
  training_step: () => import('./training-step.js'),
  unet_forward: () => import('./unet-forward.js'),
};
