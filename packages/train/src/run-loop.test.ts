import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from './image-dataset.js';
import { latestCheckpointFor, openRun, runLoop, type SteppedLoop } from './run-loop.js';
import { MetricsLog } from './metrics-log.js';
import { CheckpointStore } from './checkpoint-store.js';

/** A loop without tensors: each step adds its number to the metrics; saves are recorded. */
class CountingLoop implements SteppedLoop<number> {
  step = 0;
  readonly metrics = new MetricsLog();
  readonly saves: number[] = [];
  constructor(
    readonly opts: { logInterval?: number; saveInterval?: number },
    readonly store?: CheckpointStore,
    private readonly onRunStep?: () => void,
  ) {}
  runStep(): number {
    this.onRunStep?.();
    this.step += 1;
    this.metrics.addMean({ n: this.step });
    return this.step;
  }
  async save(): Promise<void> {
    this.saves.push(this.step);
  }
}

const data = { name: 'toy', length: 4, imageSize: 8, channels: 1 } as unknown as ImageDataset;

describe('runLoop', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adm-run-loop-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('logs every logInterval and at the end, saves every saveInterval and once more at an off-cadence end', async () => {
    const loop = new CountingLoop({ logInterval: 3, saveInterval: 4 }, new CheckpointStore(dir));
    const steps: number[] = [];
    const logs: Array<Record<string, number>> = [];
    const saved: number[] = [];
    await runLoop(loop, 10, { onStep: (r) => steps.push(r), onLog: (rec) => logs.push(rec), onSave: async (s) => void saved.push(s) });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // means over steps 1-3, 4-6, 7-9 and the last step alone
    expect(logs.map((l) => l.n)).toEqual([2, 5, 8, 10]);
    expect(loop.saves).toEqual([4, 8, 10]);
    expect(saved).toEqual([4, 8, 10]);
  });

  it('continues from a resumed step count, and does not save twice when the end is a save step', async () => {
    const loop = new CountingLoop({ saveInterval: 2 }, new CheckpointStore(dir));
    loop.step = 4;
    await runLoop(loop, 6);
    expect(loop.step).toBe(6);
    expect(loop.saves).toEqual([6]);
  });

  it('never saves without a store, and does nothing when the steps are already done', async () => {
    const loop = new CountingLoop({ saveInterval: 1 });
    await runLoop(loop, 2);
    expect(loop.saves).toEqual([]);
    await runLoop(loop, 2);
    expect(loop.step).toBe(2);
  });

  it('stops before the next step once the signal is aborted, then still saves', async () => {
    const ctl = new AbortController();
    const loop = new CountingLoop({ saveInterval: 0 }, new CheckpointStore(dir), () => {
      if (loop.step === 2) ctl.abort();
    });
    await runLoop(loop, 100, { signal: ctl.signal });
    expect(loop.step).toBe(3);
    expect(loop.saves).toEqual([3]);
  });

  it('openRun names the network in the shape error; latestCheckpointFor needs a run folder', async () => {
    expect(() => openRun({ data, batchSize: 2, lr: 1 }, { imageSize: 10, inChannels: 1 }, 'classifier')).toThrow(/toy gives 8x8x1 images, the classifier expects 10x10x1/);
    expect(() => openRun({ data, batchSize: 0, lr: 1 }, { imageSize: 8, inChannels: 1 }, 'model')).toThrow(/batch_size.*positive integer, got 0/);
    const run = openRun({ data, batchSize: 2, lr: 1, runDir: dir, keepCheckpoints: 3 }, { imageSize: 8, inChannels: 1 }, 'model');
    expect(run.metrics.file).toBe(join(dir, 'metrics.jsonl'));
    expect(run.store?.keep).toBe(3);
    await expect(latestCheckpointFor(undefined, 0)).rejects.toThrow(/needs a run folder/);
    expect(await latestCheckpointFor(new CheckpointStore(join(dir, 'empty')), 0)).toBeUndefined();
  });
});
