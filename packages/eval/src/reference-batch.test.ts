import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpz, ShapeError, TensorFileError, ZipArchive } from '@adm/core';
import { encodePng } from './png.js';
import { readEvaluatorBatch, writeEvaluatorBatch } from './reference-batch.js';
import { serializeNpzFile } from './npz-writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adm-refbatch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const images = { pixels: Uint8Array.from({ length: 2 * 3 * 4 * 3 }, (_, i) => i), count: 2, height: 3, width: 4, source: 'mem' };
const stats = (d: number, s: number) => ({ mu: Float64Array.from({ length: d }, (_, i) => i / 3 + s), sigma: Float64Array.from({ length: d * d }, (_, i) => Math.sqrt(i) + s), dim: d });

describe('evaluator .npz batches', () => {
  for (const compressed of [false, true]) {
    it(`round-trips images and float64 statistics (${compressed ? 'compressed' : 'stored'})`, async () => {
      const f = join(dir, `b-${compressed}.npz`);
      await writeEvaluatorBatch(f, { images, pool: stats(3, 0.1), spatial: stats(2, 0.2) }, { compressed });
      const back = await readEvaluatorBatch(f);
      expect([...back.images!.pixels]).toEqual([...images.pixels]);
      expect([back.images!.count, back.images!.height, back.images!.width]).toEqual([2, 3, 4]);
      expect([...back.pool!.mu]).toEqual([...stats(3, 0.1).mu]);
      expect([...back.spatial!.sigma]).toEqual([...stats(2, 0.2).sigma]);
      // Members are deflated (method 8) only when asked, and the names are numpy's.
      const zip = new ZipArchive(serializeNpzFile(parseNpz(new Uint8Array(await (await import('node:fs/promises')).readFile(f))), compressed), f);
      expect(zip.names()).toEqual(['arr_0.npy', 'mu.npy', 'sigma.npy', 'mu_s.npy', 'sigma_s.npy']);
      expect(zip.entries.get('arr_0.npy')!.method).toBe(compressed ? 8 : 0);
    });
  }

  it('reads a folder of PNGs in name order and rejects mixed sizes', async () => {
    const folder = join(dir, 'pngs');
    await mkdir(folder);
    const img = (v: number, w = 2) => encodePng({ width: w, height: 2, data: new Uint8Array(w * 2 * 3).fill(v) });
    await writeFile(join(folder, 'b.png'), img(7));
    await writeFile(join(folder, 'a.png'), img(3));
    const b = await readEvaluatorBatch(folder);
    expect(b.images!.count).toBe(2);
    expect([b.images!.pixels[0], b.images!.pixels[12]]).toEqual([3, 7]);
    await writeFile(join(folder, 'c.png'), img(1, 3));
    await expect(readEvaluatorBatch(folder)).rejects.toThrow(ShapeError);
    await expect(readEvaluatorBatch(folder)).rejects.toThrow(/c\.png: image is 3x2, but a\.png is 2x2/);
  });

  it('names the file and what is wrong', async () => {
    const f = join(dir, 'bad.npz');
    await writeFile(f, serializeNpzFile({ arr_0: { dtype: 'U8', shape: [2, 4, 4], data: new Uint8Array(32) } }));
    await expect(readEvaluatorBatch(f)).rejects.toThrow(TensorFileError);
    await expect(readEvaluatorBatch(f)).rejects.toThrow(/bad\.npz \(tensor "arr_0"\): expected images \[count, height, width, 3\]/);
    const g = join(dir, 'halfstats.npz');
    await writeFile(g, serializeNpzFile({ mu: { dtype: 'F64', shape: [2], data: new Float64Array(2) } }));
    await expect(readEvaluatorBatch(g)).rejects.toThrow(/has mu without sigma/);
  });
});
