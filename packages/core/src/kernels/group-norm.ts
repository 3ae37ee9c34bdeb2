import * as tf from '@tensorflow/tfjs';

/**
 * The fused GroupNorm (+ affine, + optional SiLU) kernel contract, shared by every backend
 * that implements it (@adm/native, the wasm kernels of @adm/backends). Model code needs
 * nothing backend-specific: it runs the kernel by name when the current backend has it,
 *   tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta }, { groups, epsilon, silu })
 * and gets [y, mean, rstd]: y shaped like x (channels last, groups over the last axis),
 * mean and rstd [batch, groups] (saved for the gradient). Statistics follow torch's
 * GroupNorm as guided-diffusion uses it: biased variance, rstd = 1 / sqrt(var + epsilon).
 *
 * The gradient kernel takes { dy, x, gamma, beta, mean, rstd } with the same attrs and
 * returns [dx, dgamma, dbeta].
 */
export const GROUP_NORM_KERNEL = 'AdmGroupNorm';
export const GROUP_NORM_GRAD_KERNEL = 'AdmGroupNormGrad';

export interface GroupNormAttrs {
  groups: number;
  epsilon: number;
  /** Apply SiLU (x * sigmoid(x)) after the affine part, as ADM's `normalization` + `SiLU` pairs do. */
  silu: boolean;
}

/** The gradient of GROUP_NORM_KERNEL, run by GROUP_NORM_GRAD_KERNEL of the same backend. */
export const groupNormGradient: tf.GradConfig = {
  kernelName: GROUP_NORM_KERNEL,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const [x, gamma, beta, mean, rstd] = saved;
    // Computed here, not inside the closures: the tape calls each closure in its own tidy,
    // which would dispose the other two gradients of one kernel call.
    const [dx, dgamma, dbeta] = tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy, x, gamma, beta, mean, rstd }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};

/**
 * Register groupNormGradient unless a gradient for the kernel is already registered, so
 * several backend plugins can each call it without tfjs warning about an overridden gradient.
 */
export function registerGroupNormGradient(): void {
  if (tf.getGradient(GROUP_NORM_KERNEL) === undefined) tf.registerGradient(groupNormGradient);
}
