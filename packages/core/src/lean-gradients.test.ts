import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { installLeanGradients, leanGradientsInstalled } from './lean-gradients.js';

// Every comparison runs the same computation with tfjs-core's stock Engine.gradients (not
// installed) and with the lean one, and asserts bitwise-equal results: the lean backward
// pass runs the same gradient functions on the same tensors in the same order.

beforeAll(async () => {
  await useBackend('cpu');
});

let undo: Array<() => void> = [];
afterEach(() => {
  for (const u of undo) u();
  undo = [];
});

/** Run `f` with the stock gradients, then with the lean ones; returns both results. */
function bothWays<T>(f: () => T): { stock: T; lean: T } {
  expect(leanGradientsInstalled()).toBe(false);
  const stock = f();
  const u = installLeanGradients();
  try {
    return { stock, lean: f() };
  } finally {
    u();
  }
}

function expectBitwiseEqual(a: tf.Tensor, b: tf.Tensor, label: string): void {
  expect(b.shape, label).toEqual(a.shape);
  const x = new Uint32Array(Float32Array.from(a.dataSync()).buffer);
  const y = new Uint32Array(Float32Array.from(b.dataSync()).buffer);
  let differing = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) differing++;
  expect(differing, `${label}: entries differing in bits`).toBe(0);
}

const randn = (shape: number[], seed: number, std = 1) => tf.randomNormal(shape, 0, std, 'float32', seed);

/**
 * Gradient checkpointing as @adm/unet does it (packages/unet/src/layers/checkpointing.ts):
 * the op keeps only its inputs; its gradient recomputes `fn` and differentiates it with
 * engine.gradients one gradientDepth level deeper, then removes the tape nodes it added.
 */
function checkpointed(fn: (h: tf.Tensor, w: tf.Tensor) => tf.Tensor, recompute = fn): (h: tf.Tensor, w: tf.Tensor) => tf.Tensor {
  const engine = tf.engine() as unknown as {
    state: { gradientDepth: number; activeTape: Array<{ saved?: tf.Tensor[] }> | null };
    gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor, allow: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
  };
  return tf.customGrad(((h: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([h, w]);
    return {
      value: tf.tidy(() => fn(h, w)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const state = engine.state;
        const start = state.activeTape?.length ?? 0;
        state.gradientDepth++;
        try {
          const { value, grads } = engine.gradients(() => recompute(saved[0], saved[1]), [saved[0], saved[1]], dy, true);
          value.dispose();
          return grads;
        } finally {
          state.gradientDepth--;
          const added = state.activeTape ? state.activeTape.splice(start) : [];
          for (const node of added) for (const t of node.saved ?? []) t.dispose();
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (h: tf.Tensor, w: tf.Tensor) => tf.Tensor;
}

describe('installLeanGradients', () => {
  it('is idempotent and its uninstall functions restore the stock method', () => {
    const engine = tf.engine() as unknown as { gradients: unknown };
    const stock = engine.gradients;
    const u1 = installLeanGradients();
    const lean = engine.gradients;
    expect(lean).not.toBe(stock);
    const u2 = installLeanGradients();
    expect(engine.gradients).toBe(lean);
    u2();
    u2();
    expect(engine.gradients).toBe(lean); // u1's install still stands
    u1();
    expect(engine.gradients).toBe(stock);
    expect(leanGradientsInstalled()).toBe(false);
  });

  it('gives the stock gradients for a conv/dense chain with fan-out, a split and an unused output', () => {
    const x = randn([2, 6, 6, 3], 1);
    const w1 = randn([3, 3, 3, 4], 2, 0.3);
    const w2 = randn([3, 3, 4, 4], 3, 0.3);
    const wd = randn([6 * 6 * 2, 5], 4, 0.1);
    const r = randn([2, 5], 5);
    const f = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, wd: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'));
      // h is used three times: the gradients reaching it are summed in tape order
      const g = tf.add(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'), tf.mul(h, tf.sigmoid(h)));
      const [a, b] = tf.split(g, 2, 3); // b is never used: its dy is zeros
      void b;
      const flat = tf.reshape(tf.tanh(a), [2, -1]);
      return tf.sum(tf.mul(tf.matMul(flat, wd), r));
    };
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.valueAndGrads(f)([x, w1, w2, wd]));
    expectBitwiseEqual(stock.value, lean.value, 'value');
    stock.grads.forEach((g, i) => expectBitwiseEqual(g, lean.grads[i], `grad ${i}`));
    tf.dispose([stock.value, lean.value, ...stock.grads, ...lean.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w1, w2, wd, r]);
  });

  it('passes the caller dy through and leaves it alive', () => {
    const x = randn([3, 4], 6);
    const dy = randn([3, 4], 7);
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.grad((x: tf.Tensor) => tf.mul(tf.exp(x), x))(x, dy));
    expectBitwiseEqual(stock, lean, 'dx');
    expect(dy.isDisposed).toBe(false);
    tf.dispose([stock, lean]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });

  it('gives the stock gradients through tf.customGrad whose gradient is computed eagerly', () => {
    const x = randn([4, 3], 8);
    const w = randn([3], 9);
    // the gradient function computes everything eagerly (not in the returned closures'
    // place) and saves its inputs, as @adm/native's group norm does
    const op = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a, b]);
      return {
        value: tf.tanh(tf.mul(a, b)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const t = tf.tanh(tf.mul(saved[0], saved[1]));
          const d = tf.mul(dy, tf.sub(1, tf.square(t)));
          return [tf.mul(d, saved[1]), tf.sum(tf.mul(d, saved[0]), 0)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.add(op(a, b), op(tf.mul(a, 2), b))));
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.grads(f)([x, w]));
    stock.forEach((g, i) => expectBitwiseEqual(g, lean[i], `grad ${i}`));
    tf.dispose([...stock, ...lean]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });

  it('gives the stock tf.variableGrads and optimizer.minimize results', () => {
    const make = () => ({
      w: tf.variable(randn([5, 3], 10, 0.5)),
      b: tf.variable(tf.zeros([3])),
      unused: tf.variable(tf.ones([2])), // not reached by the loss: no gradient
    });
    const x = randn([7, 5], 11);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2, 1], 'int32'), 3);
    const loss = (v: ReturnType<typeof make>) => () => tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(x, v.w), v.b)) as tf.Scalar;
    const vs = make();
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.variableGrads(loss(vs)));
    expectBitwiseEqual(stock.value, lean.value, 'loss');
    expect(Object.keys(lean.grads).sort()).toEqual(Object.keys(stock.grads).sort());
    expect(Object.keys(lean.grads)).not.toContain(vs.unused.name);
    for (const k of Object.keys(stock.grads)) expectBitwiseEqual(stock.grads[k], lean.grads[k], k);
    tf.dispose([stock.value, lean.value, ...Object.values(stock.grads), ...Object.values(lean.grads)]);
    expect(tf.memory().numTensors).toBe(before);

    // three Adam steps from the same start, stock vs lean
    const train = () => {
      const v = make();
      const opt = tf.train.adam(0.1);
      for (let i = 0; i < 3; i++) opt.minimize(loss(v));
      opt.dispose();
      return v;
    };
    const trained = bothWays(train);
    expectBitwiseEqual(trained.stock.w, trained.lean.w, 'w after Adam');
    expectBitwiseEqual(trained.stock.b, trained.lean.b, 'b after Adam');
    tf.dispose([...Object.values(vs), ...Object.values(trained.stock), ...Object.values(trained.lean), x, labels]);
  });

  it('gives the stock gradients for gradient checkpointing (engine.gradients one level deeper inside a gradient function), nothing left behind', () => {
    // blocks: h -> tanh(h W) + h, with W used twice through a fan-out inside
    const blockFn = (h: tf.Tensor, w: tf.Tensor) => tf.add(tf.tanh(tf.matMul(tf.matMul(h, w), w)), h);
    // d/dz sum(sin(z w)) = cos(z w) w^T, recomputed in the backward pass with tf.grad: a
    // higher-order gradient inside the nested call (the forward pass of a custom op records
    // no tape, so it uses the closed form)
    const gradBlockFn = (h: tf.Tensor, w: tf.Tensor) => tf.matMul(tf.cos(tf.matMul(h, w)), w, false, true);
    const gradBlockByGrad = (h: tf.Tensor, w: tf.Tensor) => tf.grad((z: tf.Tensor) => tf.sum(tf.sin(tf.matMul(z, w))))(h);
    const blocks = [checkpointed(blockFn), checkpointed(gradBlockFn, gradBlockByGrad), checkpointed(blockFn)];
    const x = randn([5, 4], 20);
    const ws = [randn([4, 4], 21, 0.5), randn([4, 4], 22, 0.5), randn([4, 4], 23, 0.5)];
    const f = (x: tf.Tensor, ...ws: tf.Tensor[]) => {
      let h = x;
      blocks.forEach((b, i) => (h = b(h, ws[i])));
      return tf.sum(tf.square(h));
    };
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.grads(f)([x, ...ws]));
    stock.forEach((g, i) => expectBitwiseEqual(g, lean[i], `grad ${i}`));
    tf.dispose([...stock, ...lean]);
    expect(tf.memory().numTensors).toBe(before);
    // and the same as without checkpointing (up to float rounding: other op grouping)
    const plain = tf.grads((x: tf.Tensor, ...ws: tf.Tensor[]) => tf.sum(tf.square(blockFn(gradBlockFn(blockFn(x, ws[0]), ws[1]), ws[2]))))([x, ...ws]);
    const u = installLeanGradients();
    undo.push(u);
    const leanAgain = tf.grads(f)([x, ...ws]);
    plain.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(g, leanAgain[i]))).dataSync()[0]).toBeLessThan(1e-5));
    tf.dispose([...plain, ...leanAgain, x, ...ws]);
  });

  it('falls back to the stock code for higher-order gradients', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const before = tf.memory().numTensors;
    const { stock, lean } = bothWays(() => tf.grad((x: tf.Tensor) => tf.grad((y: tf.Tensor) => tf.sum(tf.mul(tf.pow(y, 3), tf.sin(y))))(x))(x));
    expectBitwiseEqual(stock, lean, 'second derivative');
    tf.dispose([stock, lean]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('throws the stock errors', () => {
    const x = tf.scalar(2);
    const c = tf.scalar(3);
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    // y does not depend on x
    const unrelated = bothWays(() => message(() => tf.grad(() => tf.mul(c, c))(x)));
    expect(unrelated.stock).toContain('Cannot compute gradient of y=f(x)');
    expect(unrelated.lean).toBe(unrelated.stock);
    // an op with no registered gradient on the path
    const noGradient = bothWays(() => message(() => tf.grad((a: tf.Tensor) => tf.cast(tf.greater(a, 1), 'float32').add(a))(x)));
    expect(noGradient.stock).toContain('gradient function not found for Greater');
    expect(noGradient.lean).toBe(noGradient.stock);
    // a custom gradient of the wrong shape
    const badShape = tf.customGrad(((a: tf.Tensor) => ({ value: tf.mul(a, 2), gradFunc: () => tf.ones([2]) })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const shape = bothWays(() => message(() => tf.grad((a: tf.Tensor) => badShape(a))(x)));
    expect(shape.stock).toContain('does not match the shape of the input');
    expect(shape.lean).toBe(shape.stock);
    tf.dispose([x, c]);
  });

  it('lowers the peak memory of a deep chain\'s backward pass well below the stock one', async () => {
    const depth = 30;
    const ws = Array.from({ length: depth }, (_, i) => tf.variable(randn([16, 16], 100 + i, 0.3)));
    const bs = Array.from({ length: depth }, (_, i) => tf.variable(randn([16], 200 + i, 0.1)));
    const x = randn([256, 16], 12); // activations 16x the weights' size
    const state = (tf.engine() as unknown as { state: { activeProfile: { kernels: unknown[] } } }).state;
    let forwardKernels = 0;
    const loss = () => {
      let h: tf.Tensor = x;
      // per-layer tidies: the forward pass keeps only what the tape saved
      for (let i = 0; i < depth; i++) {
        const hi = h;
        h = tf.tidy(() => tf.tanh(tf.add(tf.matMul(hi, ws[i]), bs[i])));
      }
      const y = tf.sum(h) as tf.Scalar;
      forwardKernels = state.activeProfile.kernels.length;
      return y;
    };
    /** Bytes over the starting level: at the forward pass's end, and the backward pass's peak. */
    const measure = async () => {
      const base = tf.memory().numBytes;
      const tensors = tf.memory().numTensors;
      let out: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
      const info = await tf.profile(() => {
        out = tf.variableGrads(loss);
        return [];
      });
      const snapshots = info.kernels.map((k) => k.totalBytesSnapshot - base);
      const backward = snapshots.slice(forwardKernels);
      tf.dispose([out!.value, ...Object.values(out!.grads)]);
      expect(tf.memory().numTensors, 'tensors left after the step').toBe(tensors);
      return { saved: backward[0], peak: Math.max(...backward) };
    };
    const { stock, lean } = await (async () => {
      const stock = await measure();
      const u = installLeanGradients();
      undo.push(u);
      const lean = await measure();
      return { stock, lean };
    })();
    console.log(`deep chain backward peak over start: stock ${stock.peak} B, lean ${lean.peak} B (${(lean.peak / stock.peak).toFixed(2)}x); ` +
      `above the saved activations: stock ${stock.peak - stock.saved} B, lean ${lean.peak - lean.saved} B`);
    // stock holds every layer's gradients until the end (~3 activations per layer over the
    // ~3 saved); lean holds a few at a time while the saved ones are being freed
    expect(lean.peak).toBeLessThan(0.6 * stock.peak);
    expect(lean.peak - lean.saved).toBeLessThan(0.2 * (stock.peak - stock.saved));
    tf.dispose([...ws, ...bs, x]);
  });
});
