// `adm info`: which tfjs backends this machine can run, the WebGPU adapter (GPU name or
// software fallback), and which backend a run with the same preference would use.
import * as tf from '@tensorflow/tfjs';
import { backendPlugins, backendPreference, loadBackendPluginModules, useBackend } from '@adm/core';
import { parseFlags, type CliCommand } from '../command.js';
import { verboseLine } from '../output.js';

export const command: CliCommand = {
  name: 'info',
  async run(argv) {
    const { values } = parseFlags('info', argv, {
      backend: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log('usage: adm info [--backend <names>] [--json]\n  --backend  preference, comma-separated (default: ADM_BACKEND, else auto)');
      return 0;
    }
    const problems = await loadBackendPluginModules();
    const preference = backendPreference({ flag: values.backend });
    const rows: Array<{ name: string; priority: number; available: true | string; details: Record<string, string> }> = [];
    for (const p of backendPlugins()) {
      const explicit = String(preference).split(',').map((s) => s.trim()).includes(p.name);
      const available = await p.available({ explicit });
      const details = available === true || p.name === 'webgpu' ? ((await p.describe?.().catch((e: Error) => ({ error: e.message }))) ?? {}) : {};
      rows.push({ name: p.name, priority: p.priority, available, details });
    }
    let running: string;
    let skipped: string[] = [];
    try {
      const choice = await useBackend(preference, verboseLine);
      running = choice.name;
      skipped = choice.skipped;
      // wasm details (SIMD, kernels) are only known once it is active.
      const row = rows.find((r) => r.name === running);
      const p = backendPlugins().find((q) => q.name === running);
      if (row && p?.describe) row.details = await p.describe();
    } catch (e) {
      running = `none (${(e as Error).message})`;
    }
    const report = { tfjs: tf.version.tfjs, node: process.versions.node, preference, backends: rows, running, skipped, pluginLoadProblems: problems };
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`tfjs ${tf.version.tfjs}, Node ${process.versions.node}, preference: ${Array.isArray(preference) ? preference.join(',') : preference}`);
      console.log('backends (highest priority first):');
      for (const r of rows) {
        console.log(`  ${r.name.padEnd(11)} ${r.available === true ? 'available' : `unavailable: ${r.available}`}`);
        for (const [k, v] of Object.entries(r.details)) console.log(`  ${''.padEnd(11)}   ${k}: ${v}`);
      }
      for (const p of problems) console.log(`  (plugin package) ${p}`);
      console.log(`running: ${running}`);
    }
    // A live WebGPU device keeps Node's event loop alive: main() exits with our status.
    return running.startsWith('none') ? 1 : 0;
  },
};
