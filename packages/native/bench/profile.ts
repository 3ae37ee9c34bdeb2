// Time per kernel of one res128/attn128 step on a backend (tf.profile), for docs/native.md.
// usage: tsx --tsconfig tsconfig.base.json packages/native/bench/profile.ts [--backend native] [--work res] [--mode fwdbwd] [--groupnorm fused]
import * as tf from '@tensorflow/tfjs';

process.argv.push('--reps', '0', '--warmup', '0');
const { buildStep } = await import('./blocks.js');
const step = await buildStep();
step();
const info = await tf.profile(() => step());
const byName = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += k.kernelTimeMs as number;
  e.calls += 1;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
console.log(`kernel time ${total.toFixed(1)} ms over ${info.kernels.length} kernels`);
for (const [name, e] of rows) console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls} calls`);
