import type { Mode } from './workloads.js';

/** One line of `npm run bench --json`: a workload, backend and mode (fields named by the backends issue). */
export interface BenchRecord {
  workload: string;
  backend: string;
  mode: Mode;
  batch: number;
  ms_median: number | null;
  ms_min: number | null;
  images_per_s: number | null;
  gflops: number | null;
  rss_peak_mb: number | null;
  tensor_growth: number | null;
  runs: number;
  warmup: number;
  cpu_ms_median?: number;
  load_avg?: number;
  gflop_per_step?: number;
  loss?: string;
  adapter?: string;
  note?: string;
}

/** A record with no measurement yet (or none at all: skipped or failed, said in `note`). */
export function unmeasured(workload: string, backend: string, mode: Mode, batch: number, extra: Partial<BenchRecord> = {}): BenchRecord {
  return { workload, backend, mode, batch, ms_median: null, ms_min: null, images_per_s: null, gflops: null, rss_peak_mb: null, tensor_growth: null, runs: 0, warmup: 0, ...extra };
}
