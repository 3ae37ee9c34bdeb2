// Markdown tables for docs/benchmarks.md from tools/bench/results/ (run-all.sh's output):
// `npx tsx --tsconfig tsconfig.base.json tools/bench/report.ts [results-folder]`
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'tools/bench/results';
type Rec = Record<string, any>;
const tfjs: Rec[] = [];
for (const f of ['wasm.json', 'cpu.json', 'webgpu-swiftshader.json']) if (existsSync(join(dir, f))) tfjs.push(...JSON.parse(readFileSync(join(dir, f), 'utf8')));
const torchLines = existsSync(join(dir, 'torch.jsonl')) ? readFileSync(join(dir, 'torch.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')) : [];
const torch = torchLines.map((l) => JSON.parse(l.replace(/NaN/g, 'null')) as Rec);

/** PyTorch record for a workload/mode at `threads` threads: {wall, cpu, min}. */
function ref(workload: string, mode: string, threads: number): { wall: number; cpu?: number; min: number } | undefined {
  const block = { res128: 'res', attn128: 'attn' }[workload];
  if (block) {
    const r = torch.find((t) => t.work === block && t.mode === (mode === 'forward' ? 'fwd' : 'fwdbwd') && t.threads === threads);
    return r && { wall: r.median_ms, cpu: r.median_cpu_ms, min: r.min_ms };
  }
  const r = torch.find((t) => t.workload === workload && t.mode === mode && t.threads === threads);
  return r && { wall: r.ms_median, min: r.ms_min };
}

const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
console.log('| workload | mode | batch | backend | median ms | min ms | CPU ms/step | images/s | GFLOP/s | peak RSS MB | tensor growth | runs | PyTorch 2 thr median / min ms | PyTorch 1 thr median ms (CPU ms) | ratio to PyTorch 2 thr (median; min) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of tfjs) {
  const p2 = ref(r.workload, r.mode, 2);
  const p1 = ref(r.workload, r.mode, 1);
  const ratio = p2 && r.ms_median ? `${(r.ms_median / p2.wall).toFixed(1)}x; ${(r.ms_min / p2.min).toFixed(1)}x` : '-';
  const cells = [
    r.workload, r.mode, r.batch, r.backend, f(r.ms_median), f(r.ms_min), f(r.cpu_ms_median), f(r.images_per_s, 2), f(r.gflops, 1), f(r.rss_peak_mb), f(r.tensor_growth), r.runs,
    p2 ? `${f(p2.wall)} / ${f(p2.min)}` : '-', p1 ? `${f(p1.wall)}${p1.cpu !== undefined ? ` (${f(p1.cpu)})` : ''}` : '-', ratio,
  ];
  console.log(`| ${cells.join(' | ')} |`);
  if (r.note) console.log(`|   | note: ${r.note} ||||||||||||||`);
}
