import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@adm/core';
import { loadAddon } from './addon.js';
import { OutputPool } from './output-pool.js';
import './plugin.js';

describe('OutputPool', () => {
  it('reuses a released buffer of the same length, and only a live one', () => {
    const pool = new OutputPool();
    const a = pool.take(10);
    pool.stored(a);
    pool.released(a);
    expect(pool.take(10)).toBe(a);
    const b = pool.take(10);
    pool.stored(b);
    pool.pin(b); // read out by the user
    pool.released(b);
    expect(pool.take(10)).not.toBe(b);
  });

  it('pins a buffer stored twice or seen through a view', () => {
    const pool = new OutputPool();
    const a = pool.take(8);
    pool.stored(a);
    pool.stored(a.subarray(2, 4));
    pool.released(a);
    expect(pool.take(8)).not.toBe(a);
    const b = pool.take(8);
    pool.stored(b);
    pool.stored(b);
    pool.released(b);
    expect(pool.take(8)).not.toBe(b);
  });

  it('respects its byte cap', () => {
    const pool = new OutputPool(64);
    const a = pool.take(32); // 128 bytes > cap
    pool.stored(a);
    pool.released(a);
    expect(pool.stats().pooledBytes).toBe(0);
  });
});

describe.skipIf(typeof loadAddon() === 'string')('buffer reuse on the native backend', () => {
  beforeAll(async () => {
    await useBackend('native');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('never changes an array the user read out, nor a slice of a disposed tensor', () => {
    const x = tf.ones([64, 64]);
    const y = tf.add(x, x); // native output
    const values = y.dataSync();
    const part = tf.tidy(() => tf.slice(tf.mul(x, 3), [0, 0], [1, 64])); // cpu slice: a view of the disposed native product
    y.dispose();
    for (let i = 0; i < 4; i++) tf.tidy(() => tf.sub(tf.add(x, x), tf.mul(x, 5)).dataSync());
    expect(Array.from(values).every((v) => v === 2)).toBe(true);
    expect(Array.from(part.dataSync()).every((v) => v === 3)).toBe(true);
    tf.dispose([x, part]);
  });

  it('reuses buffers of tensors disposed inside a step', () => {
    const x = tf.ones([64, 64]);
    const pool = (tf.engine().backend as unknown as { outputs: OutputPool }).outputs;
    const before = pool.stats().reuses;
    for (let i = 0; i < 4; i++) tf.tidy(() => tf.sum(tf.mul(tf.add(x, x), tf.add(x, 1))));
    expect(pool.stats().reuses).toBeGreaterThan(before);
    x.dispose();
  });
});
