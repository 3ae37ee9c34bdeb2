// Multithreaded wasm in Node: it starts with the requested XNNPACK pool, has every kernel of
// `wasm` (ours included), and computes what single-threaded `wasm` computes (XNNPACK splits
// the output tiles between threads; each output's sum is the same), forward and backward.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, backendPlugins, useBackend } from '@adm/core';
import { WASM_THREADS_BACKEND, wasmThreadsPlugin } from './index.js';

const saved = process.env.ADM_WASM_THREADS;
afterAll(() => {
  if (saved === undefined) delete process.env.ADM_WASM_THREADS;
  else process.env.ADM_WASM_THREADS = saved;
});

/** A conv net's loss and its gradients w.r.t. input and filters, on the current backend. */
function step(): Float32Array[] {
  const rng = new SeededRandom(5);
  return tf.tidy(() => {
    const x = tf.tensor4d(rng.normal(2 * 12 * 12 * 16), [2, 12, 12, 16]);
    const w1 = tf.tensor4d(rng.normal(3 * 3 * 16 * 32).map((v) => v * 0.1), [3, 3, 16, 32]);
    const w2 = tf.tensor4d(rng.normal(3 * 3 * 32 * 8).map((v) => v * 0.1), [3, 3, 32, 8]);
    const m = tf.tensor2d(rng.normal(8 * 24), [8, 24]);
    const f = (...t: tf.Tensor[]) => {
      const [a, b, c] = t as tf.Tensor4D[];
      const h = tf.conv2d(tf.sigmoid(tf.conv2d(a, b, 1, 'same')), c, 1, 'same');
      return tf.sum(tf.square(tf.matMul(tf.reshape(h, [-1, 8]), m))) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)([x, w1, w2]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

describe('wasm-mt (multithreaded wasm in Node)', () => {
  it('rejects a bad ADM_WASM_THREADS with the variable named', async () => {
    process.env.ADM_WASM_THREADS = 'lots';
    await expect(wasmThreadsPlugin.available()).rejects.toThrow(/ADM_WASM_THREADS: expected an integer from 1 to 8/);
    process.env.ADM_WASM_THREADS = '1';
    expect(await wasmThreadsPlugin.available()).toMatch(/one thread only/);
  });

  it('runs a 2-thread pool and matches single-threaded wasm exactly, forward and backward', async () => {
    process.env.ADM_WASM_THREADS = '2';
    expect(backendPlugins().map((p) => p.name)).toContain(WASM_THREADS_BACKEND);
    expect(await wasmThreadsPlugin.available()).toBe(true);
    await useBackend('wasm');
    const single = step();
    await useBackend(WASM_THREADS_BACKEND);
    expect(tf.getBackend()).toBe(WASM_THREADS_BACKEND);
    const info = await wasmThreadsPlugin.describe!();
    expect(info.threads).toMatch(/^2 \(XNNPACK pool\)/);
    expect(tf.getKernel('Conv2DBackpropFilter', WASM_THREADS_BACKEND), 'the training kernels @adm/backends adds to wasm').toBeDefined();
    const before = tf.memory().numTensors;
    const multi = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(multi.length).toBe(single.length);
    for (let k = 0; k < single.length; k++) {
      let diff = 0;
      for (let i = 0; i < single[k].length; i++) diff = Math.max(diff, Math.abs(multi[k][i] - single[k][i]));
      expect(diff, `output ${k}: max |wasm-mt - wasm|`).toBe(0);
    }
    expect(single[0][0]).toBeGreaterThan(0);
  });
});
