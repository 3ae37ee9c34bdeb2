import { dirname } from 'node:path';

/**
 * Scalar metrics averaged over a logging interval and appended as one JSON line per dump
 * (like guided-diffusion's logger.logkv_mean / dumpkvs), to `<run>/metrics.jsonl`.
 */
export class MetricsLog {
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();
  private latest: Record<string, number> = {};

  constructor(readonly file?: string) {}

  /** Add one observation of each value (averaged at dump time). */
  addMean(values: Record<string, number | undefined>): void {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || !Number.isFinite(v)) continue;
      this.sums.set(k, (this.sums.get(k) ?? 0) + v);
      this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
  }

  /** Values reported as they are (step, samples, lr). */
  set(values: Record<string, number>): void {
    Object.assign(this.latest, values);
  }

  /** The averaged record (and append it to the file); resets the averages. */
  async dump(): Promise<Record<string, number>> {
    const rec: Record<string, number> = { ...this.latest };
    for (const [k, s] of this.sums) rec[k] = s / this.counts.get(k)!;
    this.sums.clear();
    this.counts.clear();
    if (this.file) {
      const fs = await import('node:fs/promises');
      await fs.mkdir(dirname(this.file), { recursive: true });
      await fs.appendFile(this.file, JSON.stringify(rec) + '\n');
    }
    return rec;
  }
}

/** Means of `values` per quarter of the diffusion steps (log_loss_dict's <key>_q0..q3). */
export function quartileMeans(key: string, values: ArrayLike<number>, t: ArrayLike<number>, numTimesteps: number): Record<string, number> {
  const sums = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < values.length; i++) {
    const q = Math.floor((4 * t[i]) / numTimesteps);
    sums[q] += values[i];
    counts[q] += 1;
  }
  const out: Record<string, number> = {};
  for (let q = 0; q < 4; q++) if (counts[q]) out[`${key}_q${q}`] = sums[q] / counts[q];
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}
