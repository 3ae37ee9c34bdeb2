// `npm run bench -- [--backend <names>] [--workload <names>] [--json <file>] [--runs N]
//                   [--budget-s S] [--batch N]`
// Times each workload (forward and train) on each available backend: median and min over
// timed runs after warm-up, images/s, conv+matmul GFLOP/s, peak RSS, tensor-count growth.
// A command, not a test: it takes minutes. See docs/benchmarks.md for results.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { backendPlugins, loadBackendPluginModules, useBackend } from '@adm/core';
import { countFlops, timeSteps } from './bench/measure.js';
import { WORKLOADS, type Mode } from './bench/workloads.js';
import { unmeasured, type BenchRecord } from './bench/record.js';

function parse(argv: string[]) {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') o.help = '1';
    else if (['--backend', '--workload', '--json', '--runs', '--budget-s', '--batch', '--warmup', '--checkpoint', '--child-out', '--rate-hint'].includes(a)) {
      if (argv[i + 1] === undefined) throw new Error(`bench: ${a} needs a value`);
      o[a.slice(2)] = argv[++i];
    } else throw new Error(`bench: unknown argument ${a} (known: --backend, --workload, --json, --runs, --warmup, --budget-s, --batch, --checkpoint, --help)`);
  }
  return o;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<number> {
  let args: Record<string, string>;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (args.help) {
    console.log(`usage: npm run bench -- [--backend a,b] [--workload ${WORKLOADS.map((w) => w.name).join(',')}] [--json file]
  --runs N       timed runs per case (default 10; fewer when a case would exceed --budget-s, stated in "note")
  --warmup N     untimed runs first (default 2, 1 for the whole networks)
  --budget-s S   time budget per case in seconds (default 300); a case whose single run is
                 estimated above it is skipped with the estimate in "note"
  --batch N      override every workload's batch size
  --checkpoint auto|on|off   UNet gradient checkpointing in train steps (auto: on for wasm and
                 wasm-mt, whose 32-bit heap (4 GB) cannot hold a batch-64 MNIST step's activations)
Each backend and workload runs in its own process (its peak RSS and heap are its own); wasm-mt's thread
count is ADM_WASM_THREADS (default every core).`);
    return 0;
  }
  await loadBackendPluginModules();
  const known = backendPlugins().map((p) => p.name);
  const wantedBackends = args.backend ? args.backend.split(',').map((s) => s.trim()) : known;
  for (const b of wantedBackends) if (!known.includes(b)) return fail(`unknown backend ${b} (known: ${known.join(', ')})`);
  const wantedWorkloads = args.workload ? args.workload.split(',').map((s) => s.trim()) : WORKLOADS.map((w) => w.name);
  for (const w of wantedWorkloads) if (!WORKLOADS.some((x) => x.name === w)) return fail(`unknown workload ${w} (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
  if (args['child-out']) {
    // one backend, in this process: the parent reads the records from the file
    // the file is rewritten after every case, so a child stopped by the parent's time limit
    // keeps what it measured
    const out = args['child-out'];
    await benchBackend(wantedBackends[0], wantedWorkloads, args, (records) => writeFileSync(out, JSON.stringify(records)));
    return 0;
  }
  console.log(`# tfjs ${tf.version.tfjs}, Node ${process.versions.node}, ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg()[0].toFixed(2)}`);
  const records: BenchRecord[] = [];
  const budgetMs = Number(args['budget-s'] ?? 300) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'adm-bench-'));
  try {
    for (const backend of wantedBackends) {
      // the rate (GFLOP/s) of the last case measured on this backend, to size the next one
      let rate = 0;
      for (const w of WORKLOADS.filter((x) => wantedWorkloads.includes(x.name))) {
        // one process per backend and workload: each starts from a fresh heap (wasm's 32-bit
        // heap never shrinks, and what earlier workloads left fragmented can make the
        // ImageNet model's 4 GB fail) and its peak RSS is its own
        const out = join(dir, `${backend}-${w.name}.json`);
        const passthrough = Object.entries(args).flatMap(([k, v]) => (['backend', 'workload', 'json', 'child-out', 'rate-hint', 'help'].includes(k) ? [] : [`--${k}`, v]));
        // A step cannot be interrupted inside the process (tfjs kernels run synchronously), so
        // the parent stops a child that runs far past the budget: a backend whose backward
        // kernels are much slower than its forward ones (cpu) is otherwise misjudged.
        const limitMs = 4 * budgetMs + 120_000;
        const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...passthrough, '--backend', backend, '--workload', w.name, '--rate-hint', String(rate), '--child-out', out], { stdio: 'inherit', env: process.env, timeout: limitMs, killSignal: 'SIGKILL' });
        let got: BenchRecord[] = [];
        try {
          got = JSON.parse(readFileSync(out, 'utf8')) as BenchRecord[];
        } catch {
          got = [];
        }
        // the cases the child owed but did not write (it died, or was stopped): say why
        const why = child.error || child.signal === 'SIGKILL'
          ? `failed: stopped after ${Math.round(limitMs / 1000)} s (4 x --budget-s + 120 s) without finishing this case`
          : `failed: the ${backend} process for ${w.name} ended without results (exit ${child.status ?? child.signal})`;
        if (child.status !== 0 || got.length > 0) {
          for (const mode of w.modes) {
            if (got.some((r) => r.mode === mode)) continue;
            console.log(`# ${w.name} ${mode} ${backend}: ${why}`);
            records.push(unmeasured(w.name, backend, mode, Number(args.batch ?? w.batch), { note: why }));
          }
        }
        records.push(...got);
        for (const r of got) if (r.gflops) rate = r.gflops;
        if (got.length === 0 && child.status === 0) break; // the backend is unavailable (said by the child)
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(records);
  if (args.json) {
    const tmp = `${args.json}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(records, null, 2) + '\n');
    renameSync(tmp, args.json);
    console.log(`# wrote ${records.length} records to ${args.json}`);
  }
  return 0;
}

/** Every wanted workload and mode on one backend (in this process). */
async function benchBackend(backend: string, wantedWorkloads: string[], args: Record<string, string>, progress: (records: BenchRecord[]) => void): Promise<void> {
  const budgetMs = Number(args['budget-s'] ?? 300) * 1000;
  const maxRuns = Number(args.runs ?? 10);
  const records: BenchRecord[] = [];
  const add = (r: BenchRecord) => {
    records.push(r);
    progress(records);
  };
  progress(records);
  const plugin = backendPlugins().find((p) => p.name === backend)!;
  const ok = await plugin.available({ explicit: true });
  if (ok !== true) {
    console.log(`# ${backend}: unavailable: ${ok}`);
    return;
  }
  await useBackend(backend);
  const details = (await plugin.describe?.()) ?? {};
  const adapter = details.adapter;
  console.log(`# backend ${backend}${adapter ? ` (adapter: ${adapter})` : ''}`);
  let gflopsSeen = Number(args['rate-hint'] ?? 0); // the rate of the last case measured on this backend, to size the next
  for (const w of WORKLOADS.filter((x) => wantedWorkloads.includes(x.name))) {
    const batch = Number(args.batch ?? w.batch);
    const ck = args.checkpoint ?? 'auto';
    // Skip building a network whose every mode is estimated over budget (building the
    // ImageNet model alone takes minutes).
    const estimate = (mode: Mode) => (gflopsSeen > 0 ? (((w.gflopForward * batch) / w.batch) * (mode === 'train' ? 3 : 1) / gflopsSeen) * 1000 : 0);
    const skipped = (mode: Mode) =>
      `skipped: one step estimated at ~${round(estimate(mode) / 1000, 0)} s from this backend's rate on the previous case (${round(gflopsSeen, 1)} GFLOP/s), over --budget-s ${budgetMs / 1000}`;
    if (w.modes.every((m) => estimate(m) > budgetMs)) {
      for (const mode of w.modes) {
        add(unmeasured(w.name, backend, mode, batch, { adapter, note: skipped(mode) }));
        console.log(`${w.name} ${mode} ${backend}: ${skipped(mode)}`);
      }
      continue;
    }
    const built = await w.build(batch, { checkpoint: ck === 'on' || (ck === 'auto' && backend.startsWith('wasm')) });
    try {
      for (const mode of w.modes) {
        try {
        const base = unmeasured(w.name, backend, mode, batch, { adapter });
        if (mode === 'train') base.loss = built.loss;
        if (mode === 'train' && built.trainNote) base.note = built.trainNote;
        if (estimate(mode) > budgetMs) {
          const rec = { ...base, note: skipped(mode) };
          add(rec);
          console.log(`${w.name} ${mode} ${backend}: ${rec.note}`);
          continue;
        }
        const step = mode === 'forward' ? built.forward : built.train;
        const big = w.gflopForward > 100;
        const warmup = Math.max(1, Number(args.warmup ?? (big ? 1 : 2)));
        // Warm-up first (the first call compiles shaders / sets up operators); the first
        // warm-up call runs under tf.profile to count its conv/matmul FLOPs, the last one
        // is timed to size the number of runs to the budget.
        const flop = await countFlops(step);
        let perRun = 0;
        for (let i = 1; i < warmup; i++) {
          const t0 = performance.now();
          await step();
          perRun = performance.now() - t0;
        }
        if (warmup === 1) {
          const t0 = performance.now();
          await step();
          perRun = performance.now() - t0;
        }
        let runs = maxRuns;
        let note: string | undefined;
        if (perRun * runs > budgetMs) {
          runs = Math.max(1, Math.min(maxRuns, Math.floor(budgetMs / Math.max(perRun, 1))));
          if (runs < maxRuns) note = `${runs} timed runs (not ${maxRuns}): ~${round(perRun / 1000, 1)} s per step, --budget-s ${budgetMs / 1000}`;
        }
        // With warmup 1 the timed sizing call above is an extra warm-up call.
        const timing = await timeSteps(step, 0, runs);
        const rec: BenchRecord = {
          ...base,
          ms_median: round(timing.msMedian),
          ms_min: round(timing.msMin),
          cpu_ms_median: round(timing.cpuMsMedian),
          load_avg: round(loadavg()[0], 2),
          images_per_s: round((batch * 1000) / timing.msMedian, 3),
          gflops: round(flop / 1e9 / (timing.msMedian / 1000), 2),
          rss_peak_mb: round(timing.rssPeakMb, 0),
          tensor_growth: timing.tensorGrowth,
          runs,
          warmup: warmup === 1 ? 2 : warmup,
          gflop_per_step: round(flop / 1e9, 3),
          note: [base.note, note].filter(Boolean).join('; ') || undefined,
        };
        gflopsSeen = rec.gflops!;
        add(rec);
        console.log(
          `${w.name.padEnd(16)} ${mode.padEnd(7)} ${backend.padEnd(8)} b=${String(batch).padEnd(3)} median ${rec.ms_median} ms (cpu ${rec.cpu_ms_median} ms)  min ${rec.ms_min} ms  ${rec.images_per_s} img/s  ${rec.gflops} GFLOP/s  rss ${rec.rss_peak_mb} MB  tensors +${rec.tensor_growth}${rec.note ? `  (${rec.note})` : ''}`,
        );
        } catch (e) {
          // One failing case (e.g. out of memory) is recorded and the others still run.
          let msg = (e as Error).message.split('\n')[0];
          // wasm32 cannot grow its heap past 4 GB; tfjs then fails with an unrelated-looking error.
          const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
          if (heap && heap >= 2 ** 32 - 2 ** 26) msg = `out of memory: the wasm heap is at the 32-bit limit (${Math.round(heap / 2 ** 20)} MB) (${msg})`;
          add(unmeasured(w.name, backend, mode, batch, { rss_peak_mb: round(process.memoryUsage.rss() / 2 ** 20, 0), note: `failed: ${msg}` }));
          console.log(`${w.name} ${mode} ${backend}: failed: ${msg}`);
        }
      }
    } finally {
      built.dispose();
    }
  }
}

function printTable(records: BenchRecord[]): void {
  const head = ['workload', 'backend', 'mode', 'batch', 'ms_median', 'ms_min', 'images_per_s', 'gflops', 'rss_peak_mb', 'tensor_growth', 'runs'] as const;
  const rows = records.map((r) => head.map((h) => (r[h] === null ? '-' : String(r[h]))));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log('\n' + head.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
}

function fail(msg: string): number {
  console.error(`bench: ${msg}`);
  return 2;
}

// A live WebGPU device keeps Node's event loop alive: exit explicitly.
main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
