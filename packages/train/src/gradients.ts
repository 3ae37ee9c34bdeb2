import * as tf from '@tensorflow/tfjs';
import { ensureComparisonGradients } from './comparison-gradients.js';

/**
 * Gradients of a scalar loss with respect to named variables, keyed by those names.
 * Variables the loss does not reach get no entry (PyTorch leaves their .grad None).
 * `f` may keep extra tensors with tf.keep; they survive, the rest of the forward is freed.
 */
export function namedGradients(f: () => tf.Scalar, params: Map<string, tf.Variable>): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  ensureComparisonGradients();
  const byVarName = new Map<string, string>();
  for (const [name, v] of params) byVarName.set(v.name, name);
  const { value, grads } = tf.variableGrads(f, [...params.values()]);
  const out = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) {
    const name = byVarName.get(varName);
    if (name === undefined) g.dispose();
    else out.set(name, g);
  }
  return { value, grads: out };
}

/** Add `more` into `acc` (microbatch accumulation), disposing what is replaced. */
export function accumulateGradients(acc: Map<string, tf.Tensor> | undefined, more: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  if (!acc) return more;
  for (const [name, g] of more) {
    const prev = acc.get(name);
    if (prev) {
      acc.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else acc.set(name, g);
  }
  return acc;
}

/** sqrt(sum of squared entries) over all tensors, as guided-diffusion logs grad_norm/param_norm. */
export function globalNorm(tensors: Iterable<tf.Tensor>): number {
  let total = 0;
  for (const t of tensors) {
    const s = tf.tidy(() => tf.sum(tf.square(t)));
    total += s.dataSync()[0];
    s.dispose();
  }
  return Math.sqrt(total);
}

export function disposeMap(m: Map<string, tf.Tensor> | undefined): void {
  if (m) for (const t of m.values()) t.dispose();
}
