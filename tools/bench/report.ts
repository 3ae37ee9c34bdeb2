// Turns the benchmark's raw results into the tables of docs/benchmarks.md: every record of
// `npm run bench --json` files in a folder beside the PyTorch reference measured in the same
// session (tools/bench/torch-reference.sh's JSON lines), with the ratio of our median to
// PyTorch's (2 threads) and the targets of the backends issue (wasm within 5x forward, 10x train).
//
//   npx tsx --tsconfig tsconfig.base.json tools/bench/report.ts [--results tools/bench/results]
//     [--torch <results>/torch.jsonl] [--write docs/benchmarks.md]
// With --write, the text between <!-- bench-report:start --> and <!-- bench-report:end --> is replaced.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@adm/core';
import type { BenchRecord } from './record.js';

interface TorchLine {
  // block lines
  work?: 'res' | 'attn';
  mode: string;
  threads: number;
  median_ms?: number;
  min_ms?: number;
  // network lines
  workload?: string;
  batch?: number;
  ms_median?: number;
  ms_min?: number;
  runs?: number;
  reps?: number;
}

/** Forward within 5x of PyTorch, train within 10x (the issue's targets for wasm). */
export const TARGETS: Record<BenchRecord['mode'], number> = { forward: 5, train: 10 };
/** The workloads the targets are set for (unet-imagenet64 is measured, with no target). */
export const TARGET_WORKLOADS = ['res128', 'attn128', 'unet-mnist'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** PyTorch's median (ms) and runs for a workload, mode and batch, 2 threads. */
export function torchReference(lines: TorchLine[], workload: string, mode: BenchRecord['mode'], batch: number): { ms: number; min: number; runs: number } | undefined {
  const block = { res128: 'res', attn128: 'attn' }[workload];
  const l = block
    ? lines.find((x) => x.work === block && x.threads === 2 && x.mode === (mode === 'forward' ? 'fwd' : 'fwdbwd') && batch === 16)
    : lines.find((x) => x.workload === workload && x.threads === 2 && x.mode === mode && x.batch === batch);
  if (!l) return undefined;
  const ms = l.median_ms ?? l.ms_median;
  const min = l.min_ms ?? l.ms_min;
  return ms === undefined || min === undefined ? undefined : { ms, min, runs: l.reps ?? l.runs ?? 0 };
}

const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));

export function report(records: BenchRecord[], torch: TorchLine[]): string {
  const order = ['res128', 'attn128', 'unet-mnist', 'unet-imagenet64'];
  const sorted = [...records].sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload) || a.mode.localeCompare(b.mode));
  const out: string[] = [];
  out.push('| workload | mode | batch | backend | median ms | min ms | CPU ms/step | img/s | GFLOP/s | peak RSS MB | tensor growth | runs | PyTorch 2 threads median / min ms | ratio (median) |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const notes: string[] = [];
  for (const r of sorted) {
    const t = torchReference(torch, r.workload, r.mode, r.batch);
    const ratio = t && r.ms_median !== null ? `${(r.ms_median / t.ms).toFixed(2)}x` : '-';
    out.push(`| ${r.workload} | ${r.mode} | ${r.batch} | ${r.backend} | ${fmt(r.ms_median)} | ${fmt(r.ms_min)} | ${fmt(r.cpu_ms_median)} | ${fmt(r.images_per_s, 2)} | ${fmt(r.gflops, 1)} | ${fmt(r.rss_peak_mb)} | ${fmt(r.tensor_growth)} | ${r.runs} | ${t ? `${fmt(t.ms)} / ${fmt(t.min)}` : '-'} | ${ratio} |`);
    if (r.note) notes.push(`- ${r.workload} ${r.mode} ${r.backend}: ${r.note}`);
  }
  out.push('', ...notes);
  const backends = [...new Set(sorted.map((r) => r.backend))].filter((b) => b.startsWith('wasm') || b === 'native');
  if (backends.length) {
    out.push('', '### Against the targets (res128, attn128, unet-mnist: forward within 5x of PyTorch with 2 threads, train within 10x)', '');
    out.push(`| workload | mode | ${backends.join(' | ')} |`);
    out.push(`|---|---|${backends.map(() => '---').join('|')}|`);
    for (const w of TARGET_WORKLOADS) {
      for (const mode of ['forward', 'train'] as const) {
        const cells = backends.map((b) => {
          const r = sorted.find((x) => x.workload === w && x.mode === mode && x.backend === b);
          const t = r && torchReference(torch, w, mode, r.batch);
          if (!r || !t || r.ms_median === null) return '-';
          const x = r.ms_median / t.ms;
          return `${x.toFixed(2)}x ${x <= TARGETS[mode] ? 'meets' : 'misses'}`;
        });
        if (cells.some((c) => c !== '-')) out.push(`| ${w} | ${mode} | ${cells.join(' | ')} |`);
      }
    }
  }
  return out.join('\n');
}

/**
 * Drops a failed or skipped record when the same workload, backend, mode and batch was also
 * measured (a rerun in its own file); the dropped record's note is kept on the measured one.
 */
export function preferMeasured(records: BenchRecord[]): BenchRecord[] {
  const key = (r: BenchRecord) => `${r.workload}|${r.backend}|${r.mode}|${r.batch}`;
  const measured = new Map<string, BenchRecord>();
  for (const r of records) if (r.ms_median !== null && !measured.has(key(r))) measured.set(key(r), r);
  const out: BenchRecord[] = [];
  for (const r of records) {
    const m = measured.get(key(r));
    if (r.ms_median === null && m) {
      m.note = [m.note, `an earlier attempt: ${r.note ?? 'no result'}`].filter(Boolean).join('; ');
      continue;
    }
    out.push(r);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = arg('results', 'tools/bench/results');
  const torchFile = arg('torch', join(dir, 'torch.jsonl'));
  if (!existsSync(torchFile)) throw new Error(`report: ${torchFile} is missing (run tools/bench/torch-reference.sh ${torchFile})`);
  const torch = readFileSync(torchFile, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      // Python's json writes NaN for undefined rates (attention has no conv FLOPs)
      return JSON.parse(l.replace(/\bNaN\b/g, 'null')) as TorchLine;
    } catch {
      throw new Error(`report: ${torchFile} line ${i + 1} is not JSON`);
    }
  });
  const records: BenchRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
    if (!Array.isArray(data) || !data.every((r) => typeof r === 'object' && r && 'workload' in r && 'backend' in r && 'mode' in r)) {
      throw new Error(`report: ${join(dir, f)} is not a list of bench records (expected the --json output of npm run bench)`);
    }
    records.push(...(data as BenchRecord[]));
  }
  const text = report(preferMeasured(records), torch);
  const target = process.argv.includes('--write') ? arg('write', '') : '';
  if (!target) {
    console.log(text);
    return;
  }
  const doc = readFileSync(target, 'utf8');
  const start = '<!-- bench-report:start -->';
  const end = '<!-- bench-report:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`report: ${target} has no ${start} ... ${end} section`);
  await writeFileAtomic(target, `${doc.slice(0, a + start.length)}\n${text}\n${doc.slice(b)}`);
  console.log(`wrote the report into ${target}`);
}

if (process.argv[1]?.endsWith('report.ts')) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
