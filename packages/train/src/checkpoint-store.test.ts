import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';

describe('CheckpointStore.removeLeftovers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adm-leftovers-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('clears what a killed writer left, restores a folder caught between the swap renames, and spares live writers', async () => {
    // the pid of a process that has exited
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const live = process.pid;
    const put = async (rel: string, text = 'x') => {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    };
    await put('checkpoints/step-0000004.safetensors', 'ckpt');
    await put(`checkpoints/step-0000008.safetensors.tmp-${dead}-1700000000000`);
    await put(`latest.json.tmp-${dead}-1700000000001`);
    await put(`metrics.jsonl.tmp-${dead}-1700000000002`);
    // model/ was renamed away and the new one not yet renamed in: the old one comes back
    await put(`model.old-${dead}-1700000000003/model.safetensors`, 'old model');
    await put(`model.tmp-${dead}-1700000000003/model.safetensors`, 'new model, maybe partial');
    // ema_0.9/ was swapped in already: the old copy goes
    await put('ema_0.9/model.safetensors', 'new ema');
    await put(`ema_0.9.old-${dead}-1700000000004/model.safetensors`, 'old ema');
    await put(`samples/step-0000008.png.tmp-${dead}-1700000000005`);
    await put(`samples/step-0000004.png`, 'png');
    await put(`ema_0.99.tmp-${live}-1700000000006/model.safetensors`, 'being written');
    await put('notes.tmp', 'a user file');

    const handled = await new CheckpointStore(dir).removeLeftovers();
    expect(handled.sort()).toEqual(
      [
        `checkpoints/step-0000008.safetensors.tmp-${dead}-1700000000000`,
        `ema_0.9.old-${dead}-1700000000004`,
        `latest.json.tmp-${dead}-1700000000001`,
        `metrics.jsonl.tmp-${dead}-1700000000002`,
        `model.old-${dead}-1700000000003`,
        `model.tmp-${dead}-1700000000003`,
        `samples/step-0000008.png.tmp-${dead}-1700000000005`,
      ].sort(),
    );
    expect((await readdir(dir)).sort()).toEqual(['checkpoints', 'ema_0.9', `ema_0.99.tmp-${live}-1700000000006`, 'model', 'notes.tmp', 'samples']);
    expect(await readdir(join(dir, 'checkpoints'))).toEqual(['step-0000004.safetensors']);
    expect(await readdir(join(dir, 'samples'))).toEqual(['step-0000004.png']);
    expect(await readFile(join(dir, 'model', 'model.safetensors'), 'utf8')).toBe('old model');
    expect(await readFile(join(dir, 'ema_0.9', 'model.safetensors'), 'utf8')).toBe('new ema');
    expect(await new CheckpointStore(join(dir, 'missing')).removeLeftovers()).toEqual([]);
  });
});
