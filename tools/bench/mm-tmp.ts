import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@adm/core';
const ranges: Record<string, [number, number]> = { sin: [-1000, 1000], cos: [-1000, 1000], sinSmall: [-3, 3], exp: [-10, 10], sigmoid: [-10, 10], tanh: [-5, 5], rsqrt: [1e-3, 10], log: [1e-3, 10], softmax: [-10, 10], erf: [-3,3], sqrt: [0, 10] };
const n = 4096;
const xs: Record<string, Float32Array> = {};
for (const [k, [a, b]] of Object.entries(ranges)) xs[k] = Float32Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const f = (k: string, x: tf.Tensor) => ({ sin: tf.sin, cos: tf.cos, sinSmall: tf.sin, exp: tf.exp, sigmoid: tf.sigmoid, tanh: tf.tanh, rsqrt: tf.rsqrt, log: tf.log, softmax: (t: tf.Tensor) => tf.softmax(t.reshape([16, 256])), erf: tf.erf, sqrt: tf.sqrt } as Record<string, (t: tf.Tensor) => tf.Tensor>)[k](x);
const out: Record<string, Record<string, Float32Array>> = {};
for (const be of ['cpu', 'webgpu']) { await useBackend(be); out[be] = {}; for (const k of Object.keys(ranges)) out[be][k] = (await f(k, tf.tensor(xs[k])).data()) as Float32Array; }
for (const k of Object.keys(ranges)) { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(out.cpu[k][i] - out.webgpu[k][i])); console.log(k, m.toExponential(2)); }
process.exit(0);
