/** What the network predicts (guided-diffusion's ModelMeanType, lower-cased). */
export type ModelMeanType = 'epsilon' | 'start_x' | 'previous_x';
/** Where the model's variance comes from (guided-diffusion's ModelVarType). */
export type ModelVarType = 'learned' | 'fixed_small' | 'fixed_large' | 'learned_range';
/** The training objective (guided-diffusion's LossType). */
export type LossType = 'mse' | 'rescaled_mse' | 'kl' | 'rescaled_kl';

export const MODEL_MEAN_TYPES: readonly ModelMeanType[] = ['epsilon', 'start_x', 'previous_x'];
export const MODEL_VAR_TYPES: readonly ModelVarType[] = ['learned', 'fixed_small', 'fixed_large', 'learned_range'];
export const LOSS_TYPES: readonly LossType[] = ['mse', 'rescaled_mse', 'kl', 'rescaled_kl'];

/** Batch timesteps: RESPACED step indices, one per batch element. */
export type Timesteps = Int32Array | readonly number[];
