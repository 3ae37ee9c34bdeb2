// The benchmark report: PyTorch's line is matched by workload, mode, batch and 2 threads; the
// ratio and the target verdicts follow from the two medians; a rerun's measurement replaces
// an earlier failed attempt.
import { describe, expect, it } from 'vitest';
import { preferMeasured, report, torchReference } from './report.js';
import type { BenchRecord } from './record.js';

const rec = (workload: string, backend: string, mode: 'forward' | 'train', batch: number, ms: number | null, note?: string): BenchRecord => ({
  workload, backend, mode, batch, ms_median: ms, ms_min: ms, images_per_s: null, gflops: null, rss_peak_mb: null, tensor_growth: 0, runs: ms === null ? 0 : 10, warmup: 2, note,
});

const torch = [
  { work: 'res' as const, mode: 'fwd', threads: 1, median_ms: 100, min_ms: 99, reps: 10 },
  { work: 'res' as const, mode: 'fwd', threads: 2, median_ms: 50, min_ms: 48, reps: 10 },
  { work: 'res' as const, mode: 'fwdbwd', threads: 2, median_ms: 150, min_ms: 140, reps: 10 },
  { workload: 'unet-mnist', mode: 'train', threads: 2, batch: 64, ms_median: 4000, ms_min: 3900, runs: 10 },
];

describe('bench report', () => {
  it('finds the 2-thread PyTorch line of each workload, mode and batch', () => {
    expect(torchReference(torch, 'res128', 'forward', 16)).toEqual({ ms: 50, min: 48, runs: 10 });
    expect(torchReference(torch, 'res128', 'train', 16)?.ms).toBe(150);
    expect(torchReference(torch, 'unet-mnist', 'train', 64)?.ms).toBe(4000);
    expect(torchReference(torch, 'unet-mnist', 'train', 16)).toBeUndefined();
    expect(torchReference(torch, 'attn128', 'forward', 16)).toBeUndefined();
  });

  it('gives ratios and target verdicts from the medians (5x forward, 10x train)', () => {
    const text = report([rec('res128', 'wasm', 'forward', 16, 300), rec('res128', 'wasm', 'train', 16, 1200), rec('unet-mnist', 'wasm', 'train', 64, 36000)], torch);
    expect(text).toContain('| res128 | forward | 16 | wasm | 300 |');
    expect(text).toMatch(/\| 50 \/ 48 \| 6\.00x \|/);
    expect(text).toContain('| res128 | forward | 6.00x misses |');
    expect(text).toContain('| res128 | train | 8.00x meets |');
    expect(text).toContain('| unet-mnist | train | 9.00x meets |');
  });

  it('keeps a rerun measurement over an earlier failed attempt, with the failure noted', () => {
    const out = preferMeasured([rec('unet-imagenet64', 'wasm', 'forward', 4, null, 'failed: out of memory'), rec('unet-imagenet64', 'wasm', 'forward', 4, 40000), rec('res128', 'cpu', 'train', 16, null, 'skipped')]);
    expect(out.map((r) => [r.workload, r.ms_median])).toEqual([['unet-imagenet64', 40000], ['res128', null]]);
    expect(out[0].note).toContain('an earlier attempt: failed: out of memory');
  });
});
