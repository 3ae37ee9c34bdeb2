import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { setQuiet } from './output.js';
import { createProgress } from './progress.js';

/** A stream that records what is written, posing as a terminal of `columns` or as a pipe. */
function sink(tty: boolean, columns = 80) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; text: string; cursorTo(): boolean; clearLine(): boolean; moveCursor(): boolean };
  s.text = '';
  s.on('data', (d) => (s.text += d));
  if (tty) Object.assign(s, { isTTY: true, columns, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return s;
}

describe('the CLI progress reporter', () => {
  it('writes plain lines, one per tenth of the work, without carriage returns when not on a terminal', () => {
    const out = sink(false);
    const p = createProgress('sample', 25, { stream: out as never, unit: 'steps' });
    for (let i = 1; i <= 25; i++) p.update(i, 'base batch 1/1');
    p.finish();
    const lines = out.text.trimEnd().split('\n');
    expect(out.text).not.toContain('\r');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^sample 3\/25 steps \(12%\) \d+m\d\ds eta \S+ base batch 1\/1$/);
    expect(lines[9]).toMatch(/^sample 25\/25 steps \(100%\) /);
  });

  it('counts a resumed run from where it resumes, and says nothing with quiet', () => {
    const out = sink(false);
    const p = createProgress('train', 100, { stream: out as never, startAt: 50, unit: 'steps' });
    for (let i = 51; i <= 100; i++) p.update(i);
    expect(out.text.trimEnd().split('\n').map((l) => l.split(' ')[1])).toEqual(['60/100', '70/100', '80/100', '90/100', '100/100']);
    const quiet = sink(false);
    const q = createProgress('x', 10, { stream: quiet as never, quiet: true });
    q.update(10);
    q.finish();
    expect(quiet.text).toBe('');
  });

  it('puts notes on lines of their own, and follows the global --quiet unless told otherwise', () => {
    const out = sink(false);
    const p = createProgress('train', 4, { stream: out as never, unit: 'steps' });
    p.update(2);
    p.note('# samples: run/samples/step-0000002.png');
    p.update(4);
    p.finish();
    expect(out.text.split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['train 2/4', '# samples:', 'train 4/4', '']);
    setQuiet(true);
    try {
      const quiet = sink(false);
      const q = createProgress('train', 4, { stream: quiet as never });
      q.update(4);
      q.note('a note');
      q.finish();
      expect(quiet.text).toBe('');
      const asked = sink(false);
      createProgress('train', 4, { stream: asked as never, quiet: false }).update(4);
      expect(asked.text).toMatch(/^train 4\/4 \(100%\)/);
    } finally {
      setQuiet(false);
    }
  });

  it('on a terminal, redraws one line that fits its width', async () => {
    const out = sink(true, 60);
    const p = createProgress('sample', 25, { stream: out as never, unit: 'steps' });
    for (let i = 1; i <= 25; i++) p.update(i, 'a rather long note about the stage and batch');
    p.finish();
    // Frames are separated by the cursor moving back to column 1 (CSI 1 G) or by line ends.
    const frames = out.text.split(/\r|\n|\x1b\[1G/).filter((f) => f.trim());
    expect(frames.length).toBeGreaterThan(0);
    // What the terminal shows: without the control sequences (CSI ..., save/restore cursor).
    const visible = (f: string) => f.replace(/\x1b(\[[0-9;]*[A-Za-z]|[78])/g, '');
    for (const f of frames) expect(visible(f).length, JSON.stringify(f)).toBeLessThanOrEqual(60);
    expect(frames.at(-1)).toContain('25/25');
  });
});
