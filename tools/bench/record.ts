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
