import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@adm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsLog } from './metrics-log.js';

const row = (step: number, loss: number) => JSON.stringify({ step, loss }) + '\n';

describe('MetricsLog', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adm-metrics-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('truncateAfter keeps the rows up to the step and drops a torn last line', async () => {
    const file = join(dir, 'cut.jsonl');
    await writeFile(file, row(3, 1.5) + row(6, 1.25) + row(9, 1) + '{"step":12,"lo');
    expect(await new MetricsLog(file).truncateAfter(6)).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(row(3, 1.5) + row(6, 1.25));
    // a resumed run appends after the kept rows
    const log = new MetricsLog(file);
    log.set({ step: 9 });
    log.addMean({ loss: 2 });
    log.addMean({ loss: 3 });
    await log.dump();
    expect(await readFile(file, 'utf8')).toBe(row(3, 1.5) + row(6, 1.25) + JSON.stringify({ step: 9, loss: 2.5 }) + '\n');
    expect(await new MetricsLog(file).truncateAfter(0)).toBe(3);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('truncateAfter leaves a log with nothing to cut untouched, and a missing one missing', async () => {
    const file = join(dir, 'whole.jsonl');
    await writeFile(file, row(3, 1) + row(6, 2));
    const before = await stat(file);
    expect(await new MetricsLog(file).truncateAfter(6)).toBe(0);
    // not rewritten: the same inode (a rewrite renames a new file over it)
    expect((await stat(file)).ino).toBe(before.ino);
    expect(await new MetricsLog(join(dir, 'none.jsonl')).truncateAfter(3)).toBe(0);
    await expect(stat(join(dir, 'none.jsonl'))).rejects.toThrow(/ENOENT/);
    expect(await new MetricsLog().truncateAfter(3)).toBe(0);
  });

  it('truncateAfter refuses a complete line that is not a metrics row, naming file and line', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, row(3, 1) + 'not json\n' + row(9, 1));
    const err = await new MetricsLog(file).truncateAfter(3).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`${file}:2`);
    expect(err.message).toMatch(/integer "step"/);
    await writeFile(file, row(3, 1) + JSON.stringify({ loss: 1 }) + '\n');
    await expect(new MetricsLog(file).truncateAfter(3)).rejects.toThrow(`${file}:2`);
    expect(await readFile(file, 'utf8')).toBe(row(3, 1) + JSON.stringify({ loss: 1 }) + '\n');
  });

  it('getState / setState carry the pending means: the next row averages the same steps', async () => {
    const a = new MetricsLog();
    a.addMean({ loss: 1, acc: 0.5 });
    a.addMean({ loss: 0.25 });
    const state = JSON.parse(JSON.stringify(a.getState()));
    expect(state).toEqual({ sums: { loss: 1.25, acc: 0.5 }, counts: { loss: 2, acc: 1 } });
    const b = new MetricsLog();
    b.addMean({ loss: 100 }); // replaced, not added to
    b.setState(state, 'ckpt.safetensors');
    a.addMean({ loss: 0.5 });
    b.addMean({ loss: 0.5 });
    expect(await b.dump()).toEqual(await a.dump());
    expect(await b.dump()).toEqual({});
    b.addMean({ loss: 1 });
    b.setState(undefined, 'ckpt.safetensors');
    expect(b.getState()).toEqual({ sums: {}, counts: {} });
  });

  it('setState refuses malformed state, naming the file', () => {
    const log = new MetricsLog();
    for (const bad of [null, [], { sums: {} }, { sums: { loss: 1 }, counts: { loss: 0 } }, { sums: { loss: 'x' }, counts: { loss: 1 } }, { sums: { loss: 1 }, counts: {} }]) {
      expect(() => log.setState(bad, 'run/checkpoints/step-0000004.safetensors'), JSON.stringify(bad)).toThrow(/run\/checkpoints\/step-0000004\.safetensors: train_state\.metrics/);
    }
  });
});
