/** A one-line text progress bar for terminals (rewritten in place with \r). */
export class ProgressBar {
  private readonly started = Date.now();
  constructor(
    readonly total: number,
    private readonly write: (s: string) => void = (s) => process.stderr.write(s),
    readonly width = 28,
    private readonly startAt = 0,
  ) {}

  update(done: number, info = ''): void {
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * this.width);
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = done > this.startAt ? elapsed / (done - this.startAt) : 0;
    const eta = rate * (this.total - done);
    this.write(`\r[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${this.total} ${formatSeconds(elapsed)} eta ${formatSeconds(eta)} ${info}`.padEnd(100));
  }

  finish(): void {
    this.write('\n');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}
