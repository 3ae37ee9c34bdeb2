import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useBackend } from '@adm/core';
import { loadAddon } from './addon.js';
import './plugin.js';

// The native backend is a MathBackendCPU, whose first tensor write prints tfjs's "install our
// node backend" banner under Node: wrong advice for this backend, and noise in every program.
const notLoaded = loadAddon();
const BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

/** Everything written through console while `fn` runs. */
async function consoleOutput(fn: () => Promise<void> | void): Promise<string> {
  const lines: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void lines.push(a.join(' '))));
  try {
    await fn();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return lines.join('\n');
}

describe.skipIf(typeof notLoaded === 'string')('the native backend is quiet', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints nothing while it starts and runs a convolution, a matmul and elementwise ops', async () => {
    const out = await consoleOutput(async () => {
      expect((await useBackend('native')).name).toBe('native');
      const y = tf.tidy(() => tf.relu(tf.add(tf.conv2d(tf.ones([1, 32, 32, 4]) as tf.Tensor4D, tf.ones([3, 3, 4, 8]) as tf.Tensor4D, 1, 'same'), 1)));
      const z = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
      // Centre pixels see 3*3*4 ones: 36 + 1; the product of ones sums 64 ones.
      expect(y.dataSync()[(16 * 32 + 16) * 8]).toBe(37);
      expect(z.dataSync()[0]).toBe(64);
      tf.dispose([y, z]);
    });
    expect(out).toBe('');
  });

  it('while the cpu backend it extends prints the banner on its first write (so the capture sees it)', async () => {
    const out = await consoleOutput(() => {
      const cpu = new MathBackendCPU();
      cpu.write(new Float32Array(4), [4], 'float32');
      cpu.dispose();
    });
    expect(out).toMatch(BANNER);
  });
});
