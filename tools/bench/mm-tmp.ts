import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@adm/core';
await useBackend(process.argv[2] ?? 'wasm');
function time(name: string, f: () => tf.Tensor | tf.Tensor[]) { for (let i=0;i<2;i++) tf.dispose(f()); const t0=performance.now(); for (let i=0;i<5;i++) tf.dispose(f()); console.log(name, ((performance.now()-t0)/5).toFixed(1), 'ms'); }
const q = tf.randomNormal([16, 256, 4, 3, 32]);
time('5d transpose [3,0,2,1,4] 1.5M', () => tf.transpose(q, [3, 0, 2, 1, 4]));
const q4 = tf.randomNormal([16, 256, 12, 32]);
time('4d transpose [0,2,1,3] 1.5M', () => tf.transpose(q4, [0, 2, 1, 3]));
const q3 = tf.randomNormal([16*256, 12, 32]);
time('3d transpose [1,0,2] 1.5M', () => tf.transpose(q3, [1, 0, 2]));
time('3d transpose [2,1,0] 1.5M', () => tf.transpose(q3, [2, 1, 0]));
const q2 = tf.randomNormal([4096, 384]);
time('2d transpose 1.5M', () => tf.transpose(q2));
time('unstack axis0 of [3,...]', () => tf.unstack(tf.randomNormal([3, 64, 256, 32])));
