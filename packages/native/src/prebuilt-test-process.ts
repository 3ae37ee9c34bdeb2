// Run by prebuilt.test.ts in a child process, inside a mount namespace where the system's
// oneDNN, OpenCL loader and libgomp are empty files: loads the addon the way an installed
// package does and prints one JSON line (where it came from, which libraries the process
// mapped, a convolution on native and on the stock cpu backend).
import * as tf from '@tensorflow/tfjs';
import { readFileSync, statSync } from 'node:fs';
import { SeededRandom } from '@adm/core';
import { addonPath, loadAddon } from './addon.js';
import { onBothBackends } from './compare-backends.js';

const masked = JSON.parse(process.argv[2] ?? '[]') as string[];
const addon = loadAddon();
if (typeof addon === 'string') {
  console.log(JSON.stringify({ error: addon }));
} else {
  const rng = new SeededRandom(3);
  const x = rng.normal(2 * 16 * 16 * 8);
  const w = rng.normal(3 * 3 * 8 * 4);
  const r = await onBothBackends(() => tf.conv2d(tf.tensor4d(x, [2, 16, 16, 8]), tf.tensor4d(w, [3, 3, 8, 4]), 1, 'same'));
  // The shared objects this process mapped, by path: where oneDNN really came from.
  const mapped = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '').filter((p) => /\.so(\.|$)/.test(p)))];
  console.log(JSON.stringify({
    path: addonPath(),
    onednn: addon.info().onednn,
    masked: masked.map((p) => ({ path: p, size: statSync(p).size })),
    mapped,
    nativeCalls: r.nativeCalls,
    native: Array.from(r.native[0]),
    cpu: Array.from(r.cpu[0]),
  }));
}
