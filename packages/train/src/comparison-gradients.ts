import * as tf from '@tensorflow/tfjs';

// Comparisons are piecewise constant, so their gradient is zero almost everywhere; tfjs
// registers none, and backprop then fails whenever a mask is computed from a tensor that
// depends on a parameter (e.g. core's saturating tanh in the decoder NLL).
const COMPARISONS = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual'];
let registered = false;

/** Register zero gradients for tfjs's comparison kernels (once; leaves existing ones alone). */
export function ensureComparisonGradients(): void {
  if (registered) return;
  registered = true;
  for (const kernelName of COMPARISONS) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as tf.Tensor[];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
}
