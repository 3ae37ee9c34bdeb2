// The kernels registered for wasm are checked against the cpu backend (pure JS, the
// reference) on random shapes, through the public ops and gradients that reach them.
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, useBackend } from '@adm/core';
import '../index.js';
import { expectClose } from './expect-close.js';

const rng = new SeededRandom(1234);
const randn = (shape: number[]) => ({ shape, data: rng.normal(shape.reduce((a, b) => a * b, 1)) });
type Host = { shape: number[]; data: Float32Array };

/** Run `fn` on each backend from the same host inputs; return outputs as host arrays. */
async function onBoth(fn: (...xs: tf.Tensor[]) => tf.Tensor[], ...inputs: Host[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[]; wasmDataLeak: number; tensorLeak: number }> {
  const res: Record<string, Float32Array[]> = {};
  let wasmDataLeak = 0;
  let tensorLeak = 0;
  for (const name of ['cpu', 'wasm']) {
    await useBackend(name);
    const backend = tf.backend();
    const before = backend.numDataIds();
    const tensorsBefore = tf.memory().numTensors;
    const xs = inputs.map((h) => tf.tensor(h.data, h.shape));
    const outs = fn(...xs);
    res[name] = outs.map((o) => o.dataSync() as Float32Array).map((a) => Float32Array.from(a));
    tf.dispose([...xs, ...outs]);
    if (name === 'wasm') {
      wasmDataLeak = backend.numDataIds() - before;
      tensorLeak = tf.memory().numTensors - tensorsBefore;
    }
  }
  return { cpu: res.cpu, wasm: res.wasm, wasmDataLeak, tensorLeak };
}

const close = (actual: Float32Array, expected: Float32Array, what: string, rel = 2e-5) => expectClose(actual, expected, what, rel);

describe('wasm training kernels vs the cpu backend', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    for (const k of ['Conv2DBackpropFilter', 'UnsortedSegmentSum']) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
  });

  it('conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput) on random shapes, strides and paddings', async () => {
    const pads: Array<'same' | 'valid' | number[][]> = ['same', 'valid', 'same', [[0, 0], [1, 0], [0, 2], [0, 0]]];
    // The first cases are fixed so every path is always covered (stride-1 fast path with
    // asymmetric explicit padding, 'same' with an even filter, stride 2); then random ones.
    const fixed = [3, 3, 2];
    for (let trial = 0; trial < 9; trial++) {
      const n = 1 + rng.int(3);
      const f = trial < fixed.length ? fixed[trial] : [1, 3, 3, 2][rng.int(4)];
      const h = f + 1 + rng.int(6);
      const w = f + 1 + rng.int(6);
      const c = 1 + rng.int(5);
      const o = 1 + rng.int(6);
      const stride = trial === 1 || (trial > 2 && trial % 3 === 2) ? 2 : 1;
      const pad = trial === 0 ? pads[3] : pads[trial % pads.length];
      const x = randn([n, h, w, c]);
      const filt = randn([f, f, c, o]);
      const conv = (xt: tf.Tensor, ft: tf.Tensor) => tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, stride, pad as 'same');
      const outShape = tf.tidy(() => conv(tf.zeros(x.shape), tf.zeros(filt.shape)).shape);
      const g = randn(outShape as number[]);
      const what = `trial ${trial}: x ${x.shape} filter ${filt.shape} stride ${stride} pad ${JSON.stringify(pad)}`;
      const r = await onBoth((xt, ft, gt) => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), gt)));
        return grads([xt, ft]);
      }, x, filt, g);
      close(r.wasm[0], r.cpu[0], `${what} dx`);
      close(r.wasm[1], r.cpu[1], `${what} dfilter`);
      expect(r.wasmDataLeak, `${what}: wasm buffers left behind`).toBe(0);
      expect(r.tensorLeak, `${what}: tensors left behind`).toBe(0);
    }
  });

  it('conv2dTranspose (Conv2DBackpropInput) at stride 1 and 2', async () => {
    for (const [stride, pad] of [[1, 'same'], [1, 'valid'], [2, 'same']] as const) {
      const n = 1 + rng.int(2);
      const [hIn, wIn] = [3 + rng.int(5), 3 + rng.int(5)];
      const [c, o] = [1 + rng.int(4), 1 + rng.int(4)];
      const filt = randn([3, 3, c, o]);
      const outH = pad === 'same' ? hIn * stride : (hIn - 1) * stride + 3;
      const outW = pad === 'same' ? wIn * stride : (wIn - 1) * stride + 3;
      const dy = randn([n, hIn, wIn, o]);
      const r = await onBoth((d, ft) => [tf.conv2dTranspose(d as tf.Tensor4D, ft as tf.Tensor4D, [n, outH, outW, c], stride, pad)], dy, filt);
      close(r.wasm[0], r.cpu[0], `conv2dTranspose stride ${stride} pad ${pad}`);
      expect(r.wasmDataLeak).toBe(0);
    }
  });

  it('unsortedSegmentSum and the gradient of gather (class embeddings)', async () => {
    for (let trial = 0; trial < 4; trial++) {
      const n = 1 + rng.int(9);
      const segments = 1 + rng.int(6);
      const width = 1 + rng.int(7);
      const x = randn([n, width, 2]);
      const ids = Array.from({ length: n }, () => rng.int(segments));
      const r = await onBoth((xt) => [tf.unsortedSegmentSum(xt, tf.tensor1d(ids, 'int32'), segments)], x);
      close(r.wasm[0], r.cpu[0], `segment sum n=${n} S=${segments}`);
      const table = randn([segments, width]);
      const g = randn([n, width]);
      const r2 = await onBoth((tab, gt) => [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), gt)))(tab)], table, g);
      close(r2.wasm[0], r2.cpu[0], `gather gradient n=${n} S=${segments}`);
      expect(r2.wasmDataLeak).toBe(0);
    }
  });

  it('matMul with every transpose combination, batched and broadcast', async () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const [bt, m, k, n] = [2 + rng.int(3), 1 + rng.int(7), 1 + rng.int(7), 1 + rng.int(7)];
      const a = randn(ta ? [bt, k, m] : [bt, m, k]);
      const b = randn(tb ? [bt, n, k] : [bt, k, n]);
      const r = await onBoth((at, btt) => [tf.matMul(at, btt, ta, tb)], a, b);
      const rg = await onBoth((at, btt) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([at, btt]), a, b);
      close(rg.wasm[0], rg.cpu[0], `matMul gradient dA transposeA=${ta} transposeB=${tb}`);
      close(rg.wasm[1], rg.cpu[1], `matMul gradient dB transposeA=${ta} transposeB=${tb}`);
      close(r.wasm[0], r.cpu[0], `matMul transposeA=${ta} transposeB=${tb} [${bt},${m},${k},${n}]`);
      expect(r.wasmDataLeak).toBe(0);
      const b2 = randn(tb ? [n, k] : [k, n]);
      const r2 = await onBoth((at, btt) => [tf.matMul(at, btt, ta, tb)], a, b2);
      close(r2.wasm[0], r2.cpu[0], `matMul broadcast B transposeA=${ta} transposeB=${tb}`);
      const a1 = randn(ta ? [k, m] : [m, k]);
      const r3 = await onBoth((at, btt) => [tf.matMul(at, btt, ta, tb)], a1, b);
      close(r3.wasm[0], r3.cpu[0], `matMul broadcast A transposeA=${ta} transposeB=${tb}`);
      const a4 = randn(ta ? [2, 3, k, m] : [2, 3, m, k]);
      const b4 = randn(tb ? [2, 3, n, k] : [2, 3, k, n]);
      const r4 = await onBoth((at, btt) => [tf.matMul(at, btt, ta, tb)], a4, b4);
      close(r4.wasm[0], r4.cpu[0], `matMul rank 4 transposeA=${ta} transposeB=${tb}`);
      expect(r4.wasmDataLeak).toBe(0);
    }
  });

  it('transpose of rank 2..6 (reduced, and rank >= 5 in rank-4 steps) and unstack on every axis', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const rank = 2 + (trial % 5);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(4));
      const perm = [...Array(rank).keys()];
      for (let i = rank - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const x = randn(shape);
      const axis = rng.int(rank);
      const r = await onBoth((xt) => [tf.transpose(xt, perm), ...tf.unstack(xt, axis)], x);
      r.cpu.forEach((c, i) => close(r.wasm[i], c, `shape ${shape} perm ${perm} / unstack axis ${axis} output ${i}`, 1e-7));
      expect(r.wasmDataLeak, `shape ${shape} perm ${perm}`).toBe(0);
    }
    const attention = randn([2, 5, 4, 3, 2]);
    const r = await onBoth((xt) => [tf.transpose(xt, [3, 0, 2, 1, 4])], attention);
    close(r.wasm[0], r.cpu[0], 'attention qkv split transpose', 1e-7);
  });
});
