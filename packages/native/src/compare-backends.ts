import * as tf from '@tensorflow/tfjs';
import type { OutputPool } from './output-pool.js';
import { NATIVE_BACKEND } from './native-kernel.js';
import { registerNativeBackend } from './native-backend.js';

/** Largest absolute difference, and that divided by the reference's largest magnitude (or 1). */
export interface Deviation {
  maxAbs: number;
  relative: number;
}

export function deviation(actual: ArrayLike<number>, expected: ArrayLike<number>): Deviation {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbs, relative: maxAbs / Math.max(scale, 1) };
}

/** Output buffers native kernels took so far on the current backend: grows with every kernel that ran natively. */
export function nativeCalls(): number {
  const pool = (tf.engine().backend as { outputs?: OutputPool }).outputs;
  return pool ? pool.takes : 0;
}

/**
 * Run `fn` on the stock cpu backend and on `native` (inputs rebuilt on each), returning each
 * output's values from both and how many addon outputs the native run made.
 */
export async function onBothBackends(fn: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; native: Float32Array[]; nativeCalls: number; shapes: number[][] }> {
  const run = () => {
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const values = list.map((t) => t.dataSync() as Float32Array);
    const shapes = list.map((t) => t.shape);
    tf.dispose(list);
    return { values, shapes };
  };
  const previous = tf.getBackend();
  registerNativeBackend();
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend(NATIVE_BACKEND);
  const before = nativeCalls();
  const native = run();
  const calls = nativeCalls() - before;
  if (previous) await tf.setBackend(previous);
  for (let i = 0; i < cpu.shapes.length; i++) {
    if (cpu.shapes[i].join() !== native.shapes[i].join()) throw new Error(`output ${i}: native shape [${native.shapes[i]}] vs cpu [${cpu.shapes[i]}]`);
  }
  return { cpu: cpu.values, native: native.values, nativeCalls: calls, shapes: cpu.shapes };
}
