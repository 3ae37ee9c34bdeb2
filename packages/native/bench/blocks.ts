// The res128 and attn128 workloads of /work/shared/reference/torch_blocks_bench.py in
// TensorFlow.js (batch 16, float32, channels last), timed on a chosen backend.
// usage: tsx --tsconfig tsconfig.base.json packages/native/bench/blocks.ts
//          [--backend native] [--work res|attn] [--mode fwd|fwdbwd] [--reps 10] [--warmup 2] [--groupnorm composed|fused]
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { SeededRandom, useBackend } from '@adm/core';
import { groupNorm } from '../src/index.js';

const args = Object.fromEntries(
  process.argv.slice(2).reduce<string[][]>((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const backend = args.backend ?? 'native';
const work = args.work ?? 'res';
const mode = args.mode ?? 'fwd';
const reps = Number(args.reps ?? 10);
const warmup = Number(args.warmup ?? 2);
const fusedNorm = (args.groupnorm ?? 'composed') === 'fused';

const rng = new SeededRandom(0);
const param = (shape: number[], scale: number) => tf.variable(tf.mul(tf.tensor(rng.normal(shape.reduce((p, d) => p * d, 1)), shape), scale));

/** GroupNorm(32) (+ SiLU): as the UNet composes it from tf ops, or the fused kernel. */
function norm(x: tf.Tensor, gamma: tf.Variable, beta: tf.Variable, silu: boolean): tf.Tensor {
  if (fusedNorm) return groupNorm(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, { groups: 32, epsilon: 1e-5, silu });
  const [n, h, w, c] = x.shape;
  const xr = tf.reshape(x, [n, h * w, 32, c / 32]);
  const { mean, variance } = tf.moments(xr, [1, 3], true);
  const y = tf.add(tf.mul(tf.reshape(tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, 1e-5))), x.shape), gamma), beta);
  return silu ? tf.mul(y, tf.sigmoid(y)) : y;
}

const C = 128;
const ones = () => tf.variable(tf.ones([C]));
const zeros = () => tf.variable(tf.zeros([C]));

function resBlock() {
  const [g1, b1, g2, b2] = [ones(), zeros(), ones(), zeros()];
  const w1 = param([3, 3, C, C], 1 / Math.sqrt(9 * C));
  const c1 = param([C], 0.01);
  const w2 = param([3, 3, C, C], 1 / Math.sqrt(9 * C));
  const c2 = param([C], 0.01);
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
  const conv = (x: tf.Tensor, w: tf.Variable, b: tf.Variable) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad, bias: b });
  return (x: tf.Tensor) => tf.add(x, conv(norm(conv(norm(x, g1, b1, true), w1, c1), g2, b2, true), w2, c2));
}

function attnBlock(heads = 4) {
  const [g, b] = [ones(), zeros()];
  const wqkv = param([C, 3 * C], 1 / Math.sqrt(C));
  const bqkv = param([3 * C], 0.01);
  const wp = param([C, C], 1 / Math.sqrt(C));
  const bp = param([C], 0.01);
  const d = C / heads;
  return (x: tf.Tensor) => {
    const [n, h, w] = x.shape;
    const t = h * w;
    const qkv = tf.add(tf.matMul(tf.reshape(norm(x, g, b, false), [n * t, C]), wqkv), bqkv);
    const split = (i: number) => tf.transpose(tf.reshape(tf.slice(tf.reshape(qkv, [n, t, 3 * C]), [0, 0, i * C], [n, t, C]), [n, t, heads, d]), [0, 2, 1, 3]);
    const [q, k, v] = [0, 1, 2].map(split);
    const a = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)));
    const o = tf.reshape(tf.transpose(tf.matMul(a, v), [0, 2, 1, 3]), [n * t, C]);
    return tf.add(x, tf.reshape(tf.add(tf.matMul(o, wp), bp), x.shape));
  };
}

/** The backend chosen, and one step of the workload (forward, or forward + backward). */
export async function buildStep(): Promise<() => void> {
  chosen = (await useBackend(backend)).name;
  const block = work === 'res' ? resBlock() : attnBlock();
  const size = work === 'res' ? 32 : 16;
  const x = tf.tensor(rng.normal(16 * size * size * C), [16, size, size, C]);
  const step = () => {
    if (mode === 'fwd') {
      // Not tidy(() => block(x).dataSync()): tidy walks a returned Float32Array element by element.
      const y = tf.tidy(() => block(x));
      y.dataSync();
      y.dispose();
    } else {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(block(x))) as tf.Scalar);
        value.dataSync();
        for (const g of Object.values(grads)) g.dataSync();
      });
    }
  };
  return step;
}

let chosen = '';

async function main() {
  const step = await buildStep();
  // A turn of the event loop between steps, as in a real loop that awaits: finalizers run
  // then and hand released output buffers back to the addon's pool.
  const tick = () => new Promise((r) => setImmediate(r));
  for (let i = 0; i < warmup; i++) {
    step();
    await tick();
  }
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
    await tick();
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log('RESULT ' + JSON.stringify({ backend: chosen + (fusedNorm ? '+fusedGN' : ''), work, mode, reps, median_ms: +median(times).toFixed(1), min_ms: +Math.min(...times).toFixed(1), median_cpu_ms: +median(cpu).toFixed(1), tensors: tf.memory().numTensors, load: +loadavg()[0].toFixed(2) }));
}

if (reps > 0) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
