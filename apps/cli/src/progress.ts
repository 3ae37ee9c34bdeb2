// The CLI's one progress reporter (sample, train, train-classifier, eval): on a terminal a
// cli-progress bar redrawn in place and cut to the terminal's width; otherwise (a log file,
// a pipe, CI) a plain line at every tenth of the work; nothing with --quiet.
import cliProgress from 'cli-progress';
import { isQuiet } from './output.js';

export interface Progress {
  /** `done` of the total so far, with a short note (stage, loss). */
  update(done: number, detail?: string): void;
  /** Ends the bar (a newline on a terminal). */
  finish(): void;
  /** A line of its own while the bar runs (a checkpoint, a sample grid): above the bar on a terminal. */
  note(line: string): void;
}

export interface ProgressOptions {
  /** Draw nothing (default: the global --quiet). */
  quiet?: boolean;
  /** Where it draws (default: stderr). */
  stream?: NodeJS.WriteStream;
  /** The count the run resumes from (a resumed training run): the rate and ETA count from it. */
  startAt?: number;
  /** What a unit of work is called in plain lines ("steps", "images"). */
  unit?: string;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  if (options.quiet ?? isQuiet()) return { update() {}, finish() {}, note() {} };
  const stream = options.stream ?? process.stderr;
  const startAt = options.startAt ?? 0;
  const started = Date.now();
  if (stream.isTTY) {
    // The bar takes what the terminal leaves after the counts and the note (at most 40 columns).
    const columns = stream.columns || 80;
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} {duration_formatted} eta {eta_formatted} {detail}`,
        barsize: Math.max(10, Math.min(40, columns - label.length - 48)),
        hideCursor: false,
        linewrap: true, // cli-progress's meaning: cut each frame to the terminal's width
        etaBuffer: 20,
        fps: 10,
        forceRedraw: true, // a note() clears the bar's line: the next frame draws it again
      },
      cliProgress.Presets.legacy,
    );
    bar.start(total, startAt, { detail: '' });
    return {
      update: (done, detail = '') => bar.update(done, { detail }),
      finish: () => bar.stop(),
      note(text) {
        // Clear the bar's line, write the note; cli-progress redraws the bar below on its next frame.
        stream.cursorTo(0);
        stream.clearLine(0);
        stream.write(`${text}\n`);
      },
    };
  }
  let lastTenth = Math.floor((startAt / Math.max(1, total)) * 10);
  let lastDone = startAt;
  const line = (done: number, detail: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const perUnit = done > startAt ? elapsed / (done - startAt) : NaN;
    const pct = Math.floor((done / Math.max(1, total)) * 100);
    stream.write(`${label} ${done}/${total} ${options.unit ?? ''}`.trimEnd() + ` (${pct}%) ${clock(elapsed)} eta ${clock(perUnit * (total - done))}${detail ? ` ${detail}` : ''}\n`);
  };
  return {
    update(done, detail = '') {
      lastDone = done;
      const tenth = Math.floor((done / Math.max(1, total)) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        line(done, detail);
      }
    },
    finish() {
      if (lastTenth < 10 && lastDone > startAt) line(lastDone, '');
    },
    note: (text) => stream.write(`${text}\n`),
  };
}
