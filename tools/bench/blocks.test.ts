// The benchmark's block workloads compute the same function on a backend with the fused
// GroupNorm kernel (wasm) as from tf ops (cpu): forward and the gradients the train step uses.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GROUP_NORM_KERNEL, SeededRandom, loadBackendPluginModules, useBackend } from '@adm/core';
import { attentionBlock, resBlock, type Network } from './blocks.js';

async function run(backend: string, make: () => Network, shape: [number, number, number, number]): Promise<Float32Array[]> {
  await loadBackendPluginModules();
  await useBackend(backend);
  const net = make();
  const x = tf.tensor4d(new SeededRandom(2).normal(shape.reduce((a, b) => a * b, 1)), shape);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.forward(x))) as tf.Scalar, net.variables);
  const out = [value, ...net.variables.map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
  tf.dispose([value, x, ...Object.values(grads)]);
  net.dispose();
  return out;
}

describe('benchmark blocks', () => {
  for (const [name, make, shape] of [
    ['res block', () => resBlock(64, 1), [2, 8, 8, 64]],
    ['attention block', () => attentionBlock(64, 4, 1), [2, 4, 4, 64]],
  ] as const) {
    it(`${name}: loss and every gradient on wasm (fused GroupNorm) match the tf-ops path on cpu`, async () => {
      const ref = await run('cpu', make, [...shape]);
      const got = await run('wasm', make, [...shape]);
      expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm')).toBeDefined();
      for (let k = 0; k < ref.length; k++) {
        let scale = 1e-8;
        let diff = 0;
        for (let i = 0; i < ref[k].length; i++) {
          scale = Math.max(scale, Math.abs(ref[k][i]));
          diff = Math.max(diff, Math.abs(got[k][i] - ref[k][i]));
        }
        expect(diff / scale, `output ${k}`).toBeLessThan(1e-4);
      }
    });
  }
});
