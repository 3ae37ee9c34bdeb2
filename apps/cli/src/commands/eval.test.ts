import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNpz, SeededRandom, serializeNpz } from '@adm/core';
import { decodePng, readEvaluatorBatch, serializeNpzFile } from '@adm/eval';
import { main } from '../main.js';

// End to end on two tiny .npz batches with the fixture's random FID Inception weights
// (../shared/fixtures/inception). wasm runs the 299x299 forward ~30x faster than cpu.
const WEIGHTS = join(__dirname, '../../../../../shared/fixtures/inception/inception_fid/weights.safetensors');

let dir: string;

function images(seed: number, n: number, size: number, smooth: boolean): Uint8Array {
  const rng = new SeededRandom(seed);
  const u = rng.uniform(n * size * size * 3);
  const out = new Uint8Array(u.length);
  for (let i = 0; i < u.length; i++) {
    const x = Math.floor(i / 3) % size;
    out[i] = smooth ? Math.round(127 + 100 * Math.sin(x / 3 + seed) * u[i]) : Math.floor(u[i] * 256);
  }
  return out;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adm-eval-'));
  await writeFile(join(dir, 'ref.npz'), serializeNpz({ arr_0: { dtype: 'U8', shape: [6, 16, 16, 3], data: images(1, 6, 16, false) } }));
  // Samples deflate-compressed, as np.savez_compressed writes them.
  await writeFile(join(dir, 'samples.npz'), serializeNpzFile({ arr_0: { dtype: 'U8', shape: [6, 16, 16, 3], data: images(2, 6, 16, true) } }, true));
  await writeFile(join(dir, 'small.npz'), serializeNpz({ arr_0: { dtype: 'U8', shape: [8, 12, 12, 3], data: images(3, 8, 12, false) } }));
  await writeFile(join(dir, 'garbage.npz'), new TextEncoder().encode('not a zip file'));
  await mkdir(join(dir, 'empty'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('adm eval', () => {
  const common = () => ['--inception', WEIGHTS, '--backend', 'wasm', '--batch-size', '8', '--cache-dir', join(dir, 'cache')];

  it('gives FID 0, sFID 0, precision and recall 1 for a batch against itself', async () => {
    const json = join(dir, 'self.json');
    const r = await run(['eval', join(dir, 'ref.npz'), join(dir, 'ref.npz'), ...common(), '--json', json]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Inception Score: .*\nFID: .*\nsFID: .*\nPrecision: .*\nRecall: .*$/);
    const m = JSON.parse(await readFile(json, 'utf8'));
    expect(Math.abs(m.fid)).toBeLessThan(1e-6);
    expect(Math.abs(m.sfid)).toBeLessThan(1e-6);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(1);
    expect(m.inceptionScore).toBeGreaterThanOrEqual(1);
    expect(m.referenceCount).toBe(6);
    // The reference's features and float64 statistics are now cached.
    const cached = (await readdir(join(dir, 'cache'))).sort();
    expect(cached.map((f) => f.replace(/-[0-9a-f]{32}\.npz$/, ''))).toEqual(['inception-features', 'inception-statistics']);
  });

  it('evaluates samples against a reference, saves the reference statistics and a nearest-neighbour grid', async () => {
    const json = join(dir, 'm.json');
    const grid = join(dir, 'nn.png');
    const saved = join(dir, 'ref-stats.npz');
    const r = await run([
      'eval', join(dir, 'ref.npz'), join(dir, 'samples.npz'), ...common(), '--json', json,
      '--nearest', grid, '--nearest-samples', '2', '--nearest-k', '3', '--save-reference', saved, '--compress',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const m = JSON.parse(await readFile(json, 'utf8'));
    expect(m.fid).toBeGreaterThan(0.01);
    expect(m.sfid).toBeGreaterThan(0.01);
    for (const k of ['precision', 'recall']) expect(m[k] >= 0 && m[k] <= 1).toBe(true);
    const png = decodePng(new Uint8Array(await readFile(grid)));
    // 2 rows of (sample + 3 neighbours), 16 px cells, 2 px gaps.
    expect([png.width, png.height]).toEqual([4 * 16 + 5 * 2, 2 * 16 + 3 * 2]);
    // The saved reference is an evaluator batch: the images plus float64 mu/sigma/mu_s/sigma_s.
    const back = await readEvaluatorBatch(saved);
    expect(back.images!.count).toBe(6);
    expect([...back.images!.pixels]).toEqual([...images(1, 6, 16, false)]);
    expect([back.pool!.dim, back.spatial!.dim]).toEqual([2048, 17 * 17 * 7]);
    // Its statistics alone (no arr_0) give the same FID and sFID; precision/recall need images.
    const statsOnly = join(dir, 'stats-only.npz');
    const all = parseNpz(new Uint8Array(await readFile(saved)));
    all.delete('arr_0');
    await writeFile(statsOnly, serializeNpz(all));
    const json2 = join(dir, 'm2.json');
    const r2 = await run(['eval', statsOnly, join(dir, 'samples.npz'), ...common(), '--json', json2]);
    expect(r2.err).toBe('');
    expect(r2.code).toBe(0);
    expect(r2.out).toMatch(/Precision: n\/a/);
    const m2 = JSON.parse(await readFile(json2, 'utf8'));
    expect(m2.referenceStatistics).toBe('precomputed');
    expect(Math.abs(m2.fid - m.fid)).toBeLessThan(1e-9 * Math.max(1, m.fid));
    expect(Math.abs(m2.sfid - m.sfid)).toBeLessThan(1e-9 * Math.max(1, m.sfid));
    expect(m2.precision).toBeNull();
  });

  it('reports bad inputs clearly', async () => {
    // Exit status 1 for bad files, 2 for a bad command line (the message names the flag).
    const cases: Array<[string[], RegExp, number]> = [
      [['eval', join(dir, 'ref.npz'), join(dir, 'small.npz'), ...common()], /image sizes differ.*16x16.*12x12/, 1],
      [['eval', join(dir, 'ref.npz'), join(dir, 'empty'), ...common()], /empty: the folder holds no \.png images/, 1],
      [['eval', join(dir, 'garbage.npz'), join(dir, 'ref.npz'), ...common()], /garbage\.npz: not a zip archive/, 1],
      [['eval', join(dir, 'missing.npz'), join(dir, 'ref.npz'), ...common()], /missing\.npz: not found/, 1],
      [['eval', join(dir, 'ref.npz'), join(dir, 'ref.npz')], /^adm eval: --inception: .*required/, 2],
      [['eval', join(dir, 'ref.npz'), join(dir, 'ref.npz'), '--inception', join(dir, 'nowhere.pth')], /^adm eval: --inception: .*nowhere\.pth not found$/, 2],
      [['eval', join(dir, 'ref.npz'), join(dir, 'ref.npz'), ...common(), '--preprocessing', 'bogus'], /^adm eval: --preprocessing: unknown Inception preprocessing "bogus"/, 2],
      [['eval', join(dir, 'ref.npz'), join(dir, 'ref.npz'), ...common(), '--nearest-k', '0'], /^adm eval: --nearest-k: expected a positive integer, got "0"$/, 2],
      [['eval', join(dir, 'ref.npz'), ...common()], /^adm eval: <reference> <samples>: expected two arguments, got 1/, 2],
    ];
    for (const [args, want, code] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err).toMatch(want);
    }
  });
});
