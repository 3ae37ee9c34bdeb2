// Forward-pass benchmark of the ADM network: a preset (default: the ImageNet 64
// class-conditional model, 296M parameters) at full size with random weights, one
// forward pass per run at a given batch, on each requested tfjs backend. Each backend runs
// in its own child process so its peak RSS is its own.
//
//   npx tsx --tsconfig tsconfig.base.json tools/bench-unet-forward.ts \
//     [--backends wasm,native,cpu] [--preset imagenet64] [--batch 1] [--runs 2] [--write docs/benchmarks-unet.md]
//     [--results results.json]   (merge with earlier runs: rows of backends not re-run are kept)
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadBackendPluginModules, useBackend, writeFileAtomic } from '@adm/core';
import { createFromFlags, getPreset, type UNetModel } from '@adm/unet';

interface Result {
  backend: string;
  preset: string;
  batch: number;
  parameters: number;
  buildSeconds: number;
  /** Seconds of each forward pass, in order (the first includes kernel set-up). */
  forwardSeconds: number[];
  peakRssMiB: number;
  error?: string;
  /** When and with which command the row was measured (set by the parent). */
  measured?: string;
  command?: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function child(): Promise<void> {
  const backend = arg('backend', 'wasm');
  const presetName = arg('preset', 'imagenet64');
  const batch = Number(arg('batch', '1'));
  const runs = Number(arg('runs', '1'));
  const result: Result = { backend, preset: presetName, batch, parameters: 0, buildSeconds: 0, forwardSeconds: [], peakRssMiB: 0 };
  try {
    await loadBackendPluginModules();
    await useBackend(backend);
    const preset = getPreset(presetName);
    const t0 = performance.now();
    const model = createFromFlags(preset.modelType, preset.flags, { seed: 0 }) as UNetModel;
    result.buildSeconds = (performance.now() - t0) / 1000;
    for (const v of model.parameters().values()) result.parameters += v.size;
    const size = model.info.imageSize;
    const x = tf.randomNormal([batch, size, size, model.info.inChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.fill([batch], 500) as tf.Tensor1D;
    const cond = model.info.numClasses ? { y: tf.fill([batch], 7, 'int32') as tf.Tensor1D } : {};
    for (let r = 0; r < runs; r++) {
      const s = performance.now();
      const out = model.apply(x, t, cond);
      await out.data(); // wait for the backend to finish
      result.forwardSeconds.push((performance.now() - s) / 1000);
      out.dispose();
    }
  } catch (e) {
    result.error = (e as Error).message.split('\n')[0];
  }
  result.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`RESULT ${JSON.stringify(result)}`);
}

const START = '<!-- bench-unet-forward:start -->';
const END = '<!-- bench-unet-forward:end -->';

const COMMAND = `npx tsx --tsconfig tsconfig.base.json tools/bench-unet-forward.ts ${process.argv.slice(2).join(' ')}`.trim();

function table(results: Result[]): string {
  const commands = [...new Set(results.map((r) => r.command ?? COMMAND))];
  const rows = results.map((r) =>
    r.error
      ? `| ${r.backend} | - | - | - | ${r.peakRssMiB.toFixed(0)} | ${r.measured ?? ''} | ${r.error} |`
      : `| ${r.backend} | ${r.buildSeconds.toFixed(1)} | ${r.forwardSeconds[0].toFixed(1)} | ${r.forwardSeconds.length > 1 ? r.forwardSeconds.slice(1).map((s) => s.toFixed(1)).join(', ') : '-'} | ${r.peakRssMiB.toFixed(0)} | ${r.measured ?? ''} (command ${commands.indexOf(r.command ?? COMMAND) + 1}) | |`,
  );
  const first = results.find((r) => !r.error);
  return [
    START,
    `## Forward pass: ${first?.preset ?? '?'} preset, batch ${first?.batch ?? '?'}, random weights`,
    '',
    `${first ? `${first.parameters.toLocaleString('en-US')} parameters. ` : ''}Measured on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, shared), Node ${process.versions.node}, tfjs ${tf.version.tfjs}, float32. Each backend runs in its own process; the first forward pass includes kernel set-up; build = constructing the network with random weights.`,
    '',
    ...commands.map((c, i) => `${i + 1}. \`${c}\``),
    '',
    '| backend | build (s) | first forward (s) | further forwards (s) | peak RSS (MiB) | measured (UTC) | note |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'For scale (docs/PLATFORM.md): PyTorch 1.13 on the same kind of machine, 2 threads, runs this network at batch 4 in 12.2 s (about 3 s per image).',
    END,
  ].join('\n');
}

async function parent(): Promise<void> {
  // --backends none re-renders the table from --results without measuring
  const backends = arg('backends', 'wasm,native,cpu').split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  const passthrough = ['preset', 'batch', 'runs'].flatMap((k) => (process.argv.includes(`--${k}`) ? [`--${k}`, arg(k, '')] : []));
  const results: Result[] = [];
  for (const b of backends) {
    const p = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--backend', b, ...passthrough], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: process.env,
    });
    const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) {
      console.error(`${b}: no result (exit ${p.status}):\n${p.stderr.slice(-2000)}`);
      continue;
    }
    const r = JSON.parse(line.slice(7)) as Result;
    r.measured = new Date().toISOString().slice(0, 16).replace('T', ' ');
    r.command = COMMAND;
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const resultsFile = arg('results', '');
  if (resultsFile) {
    // keep earlier rows (other backends, same preset and batch), replace the re-run ones
    const earlier = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '[]')) as Result[];
    const fresh = new Set(results.map((r) => r.backend));
    const same = (r: Result) => results.length === 0 || (r.preset === results[0].preset && r.batch === results[0].batch);
    results.unshift(...earlier.filter((r) => !fresh.has(r.backend) && same(r)));
    await writeFileAtomic(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  }
  const write = arg('write', '');
  if (write) {
    const section = table(results);
    let doc = await readFile(write, 'utf8').catch(() => '# ADM network benchmarks\n');
    doc = doc.includes(START) && doc.includes(END) ? doc.slice(0, doc.indexOf(START)) + section + doc.slice(doc.indexOf(END) + END.length) : `${doc.trimEnd()}\n\n${section}\n`;
    await writeFileAtomic(write, doc);
    console.log(`wrote ${write}`);
  }
}

if (process.argv.includes('--child')) await child();
else await parent();
