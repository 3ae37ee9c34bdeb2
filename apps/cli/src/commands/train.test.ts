import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, serializeNpz, useBackend } from '@adm/core';
import { loadModelFolder, stateDict } from '@adm/unet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as train, loadDataset } from './train.js';
import { command as trainClassifier } from './train-classifier.js';

// A tiny model on 8x8 images so a step runs in seconds on the cpu backend.
const FLAGS = { image_size: 8, in_channels: 1, num_channels: 32, num_res_blocks: 1, channel_mult: '1,2', attention_resolutions: '4', num_head_channels: 32, learn_sigma: true, class_cond: true, num_classes: 3, diffusion_steps: 50, noise_schedule: 'cosine' };
const CLASSIFIER_FLAGS = { image_size: 8, in_channels: 1, num_classes: 3, channel_mult: '1,2', classifier_width: 32, classifier_depth: 1, classifier_attention_resolutions: '4', num_head_channels: 32, diffusion_steps: 50 };

describe('adm train / adm train-classifier', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'adm-cli-train-'));
    const n = 6;
    const pixels = Uint8Array.from({ length: n * 64 }, (_, i) => (i * 37) % 256);
    await writeFile(join(dir, 'data.npz'), serializeNpz({ arr_0: { dtype: 'U8', shape: [n, 8, 8, 1], data: pixels }, arr_1: { dtype: 'I64', shape: [n], data: BigInt64Array.from([0n, 1n, 2n, 0n, 1n, 2n]) } }));
    await writeFile(join(dir, 'flags.json'), JSON.stringify(FLAGS));
    await writeFile(join(dir, 'cflags.json'), JSON.stringify(CLASSIFIER_FLAGS));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains, writes loadable model folders, and resumes to the same weights as an uninterrupted run', async () => {
    const common = ['--config', join(dir, 'flags.json'), '--data', join(dir, 'data.npz'), '--batch', '2', '--backend', 'cpu', '--seed', '3', '--lr', '1e-3', '--ema', '0.9'];
    expect(await train.run([...common, '--out', join(dir, 'a'), '--steps', '1'])).toBe(0);
    expect(await train.run([...common, '--out', join(dir, 'a'), '--steps', '2', '--resume'])).toBe(0);
    expect(await train.run([...common, '--out', join(dir, 'b'), '--steps', '2'])).toBe(0);
    const a = await loadModelFolder(join(dir, 'a', 'ema_0.9'));
    const b = await loadModelFolder(join(dir, 'b', 'ema_0.9'));
    expect(a.modelType).toBe('unet');
    expect(a.flags.num_classes).toBe(3);
    const sa = stateDict(a.model);
    const sb = stateDict(b.model);
    for (const [name, t] of sa) expect(Array.from(t.data as Float32Array), name).toEqual(Array.from(sb.get(name)!.data as Float32Array));
    a.model.dispose();
    b.model.dispose();
    expect(JSON.parse(await readFile(join(dir, 'a', 'latest.json'), 'utf8')).step).toBe(2);
  });

  it('trains a classifier into a loadable classifier folder', async () => {
    const out = join(dir, 'c');
    expect(await trainClassifier.run(['--config', join(dir, 'cflags.json'), '--data', join(dir, 'data.npz'), '--batch', '3', '--steps', '1', '--backend', 'cpu', '--out', out])).toBe(0);
    const c = await loadModelFolder(join(out, 'classifier'));
    expect(c.modelType).toBe('classifier');
    c.model.dispose();
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[0])['train_acc@1']).toBeGreaterThanOrEqual(0);
  });

  it('reads a folder of PNGs with labels from the file-name prefixes', async () => {
    const folder = join(dir, 'pngs');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder);
    const rgb = (v: number) => Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 0 ? v : 30));
    await writeFile(join(folder, 'dog_1.png'), encodePng(rgb(90), 8, 8, 3));
    await writeFile(join(folder, 'cat_1.png'), encodePng(rgb(210), 8, 8, 3));
    await writeFile(join(folder, 'dog_2.png'), encodePng(rgb(0), 8, 8, 3));
    const ds = await loadDataset(folder, 8, 1);
    expect([ds.length, ds.imageSize, ds.channels, ds.numClasses]).toEqual([3, 8, 1, 2]);
    const b = ds.batch([0, 1, 2]);
    // sorted names: cat_1, dog_1, dog_2 -> classes cat = 0, dog = 1; grey = RGB mean.
    expect(Array.from(b.y!)).toEqual([0, 1, 1]);
    expect(b.x[0]).toBeCloseTo(Math.round((210 + 60) / 3) / 127.5 - 1, 6);
    expect(b.x[64]).toBeCloseTo(Math.round((90 + 60) / 3) / 127.5 - 1, 6);
  });

  it('names the bad flag', async () => {
    await expect(train.run(['--preset', 'mnist-classifier', '--data', 'mnist', '--out', join(dir, 'x')])).rejects.toThrow(/a classifier preset/);
    await expect(train.run(['--config', join(dir, 'flags.json'), '--data', 'images.png', '--out', join(dir, 'x')])).rejects.toThrow(/--data/);
  });
});
