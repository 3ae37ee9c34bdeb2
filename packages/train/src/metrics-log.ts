import { dirname } from 'node:path';
import { ConfigError, writeFileAtomic } from '@adm/core';

/** The means not dumped yet: a checkpoint carries them so a resumed run's next row averages the same steps. */
export interface MetricsState {
  sums: Record<string, number>;
  counts: Record<string, number>;
}

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

  /** The pending sums and counts (what the next dump would average). */
  getState(): MetricsState {
    return { sums: Object.fromEntries(this.sums), counts: Object.fromEntries(this.counts) };
  }

  /** Restore pending means saved by getState (undefined: none pending); `source` names the file in errors. */
  setState(state: unknown, source: string): void {
    this.sums.clear();
    this.counts.clear();
    if (state === undefined) return;
    const st = state as Partial<MetricsState>;
    const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    if (!isRecord(st) || !isRecord(st.sums) || !isRecord(st.counts)) throw new ConfigError(`${source}: train_state.metrics`, 'expected {"sums": {...}, "counts": {...}}');
    for (const [k, v] of Object.entries(st.sums)) {
      const n = st.counts[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
        throw new ConfigError(`${source}: train_state.metrics`, `"${k}" needs a finite sum and a positive integer count, got ${JSON.stringify(v)} and ${JSON.stringify(n)}`);
      }
      this.sums.set(k, v);
      this.counts.set(k, n);
    }
  }

  /**
   * Cut the file back to the rows of steps <= `step` (a resumed run logs the later ones again),
   * dropping a torn last line a killed process left; rewritten under a temporary name and
   * renamed. Returns how many rows were dropped.
   */
  async truncateAfter(step: number): Promise<number> {
    if (!this.file) return 0;
    const fs = await import('node:fs/promises');
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const lines = text.split('\n');
    // Only newline-terminated rows were written whole: what follows the last newline is torn.
    const torn = lines.pop() !== '';
    const kept: string[] = [];
    lines.forEach((line, i) => {
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = undefined;
      }
      const s = (rec as { step?: unknown } | undefined)?.step;
      if (typeof s !== 'number' || !Number.isInteger(s)) throw new ConfigError(`${this.file}:${i + 1}`, 'expected a JSON metrics row with an integer "step" (as adm train writes them)');
      if (s <= step) kept.push(line + '\n');
    });
    const dropped = lines.length - kept.length;
    if (dropped || torn) await writeFileAtomic(this.file, kept.join(''));
    return dropped;
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
