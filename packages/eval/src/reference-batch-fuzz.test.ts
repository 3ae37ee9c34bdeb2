import fc from 'fast-check';
import { AdmError, serializeNpz } from '@adm/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvaluatorBatch } from './reference-batch.js';

// Property: a mutated evaluator batch (arr_0 images, mu/sigma statistics) reads consistently
// or is refused with one of the project's errors naming the file. ADM_FUZZ_RUNS sets the runs.
const RUNS = Number(process.env.ADM_FUZZ_RUNS ?? 150);
const BATCH = serializeNpz({
  arr_0: { dtype: 'U8', shape: [2, 2, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i * 9) },
  mu: { dtype: 'F64', shape: [2], data: Float64Array.from([0.5, -1]) },
  sigma: { dtype: 'F64', shape: [2, 2], data: Float64Array.from([1, 0.25, 0.25, 2]) },
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adm-evalbatch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readEvaluatorBatch on mutated batches', () => {
  it('reads consistently or refuses naming the file', { timeout: 60_000 + RUNS * 50 }, async () => {
    const file = join(dir, 'ref.npz');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }), async (sets, cut) => {
        const bytes = BATCH.slice(0, cut === undefined ? BATCH.length : cut % BATCH.length);
        for (const [at, v] of sets) if (bytes.length) bytes[at % bytes.length] = v;
        await writeFile(file, bytes);
        try {
          const b = await readEvaluatorBatch(file);
          if (b.images) expect(b.images.pixels.length).toBe(b.images.count * b.images.height * b.images.width * 3);
          if (b.pool) expect(b.pool.sigma.length).toBe(b.pool.dim * b.pool.dim);
        } catch (e) {
          if (!(e instanceof AdmError)) throw e;
          expect(e.message.startsWith(file)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
