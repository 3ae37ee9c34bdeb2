// Helpers shared by the network parity kinds (unet_forward, classifier, checkpoint_pt, superres_forward).
import type { Tolerance } from '../types.js';

/**
 * Tolerance of one output from case.json's f64_reference: the stored float32 values are
 * themselves up to max_abs_diff away from the exact result, and a float32 implementation
 * with another operation order drifts by a similar amount, so allow a few multiples of it.
 */
export function forwardTolerance(spec: Record<string, any>, output: string, factor = 4): Tolerance {
  const ref = spec.f64_reference?.[output];
  if (!ref || typeof ref.max_abs_diff !== 'number') throw new Error(`case.json has no f64_reference for ${output}`);
  return { abs: factor * ref.max_abs_diff, why: `${factor} x f64_reference max_abs_diff` };
}
