// Time per kernel of one step of a bench workload on a backend (tf.profile).
// usage: tsx --tsconfig tsconfig.base.json packages/native/bench/profile-workload.ts <workloads module> <workload> <forward|train> [batch] [backend=native]
//   e.g. ... profile-workload.ts tools/bench/workloads.ts unet-mnist train 64
// The workloads come from the module named on the command line (one exporting WORKLOADS, as
// the repository's tools/bench/workloads.ts does): the package imports nothing outside itself.
// (nested op-level entries such as fusedConv2d__op are left out: their kernels are counted.)
import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useBackend } from '@adm/core';

interface Workload {
  name: string;
  batch: number;
  build(batch: number): Promise<{ forward(): Promise<void>; train?(): Promise<void>; dispose(): void }>;
}

const [modulePath, name = 'unet-mnist', mode = 'train', batchArg, backend = 'native'] = process.argv.slice(2);
if (!modulePath) throw new Error('usage: profile-workload.ts <workloads module, e.g. tools/bench/workloads.ts> <workload> <forward|train> [batch] [backend]');
const { WORKLOADS } = (await import(pathToFileURL(resolve(modulePath)).href)) as { WORKLOADS: Workload[] };
const w = WORKLOADS.find((x) => x.name === name);
if (!w) throw new Error(`unknown workload ${name} (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
await useBackend(backend);
const built = await w.build(Number(batchArg ?? w.batch));
const step = mode === 'train' ? built.train! : built.forward;
await step();
const t0 = performance.now();
const info = await tf.profile(() => step());
const wall = performance.now() - t0;
const byName = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  if (k.name.endsWith('__op')) continue;
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += k.kernelTimeMs as number;
  e.calls += 1;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(`${name} ${mode} on ${backend}: step ${wall.toFixed(0)} ms under tf.profile, kernel time ${total.toFixed(0)} ms over ${info.kernels.length} kernels`);
for (const [k, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${k.padEnd(26)} ${e.ms.toFixed(1).padStart(9)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls} calls`);
}
built.dispose();
