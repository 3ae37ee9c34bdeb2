import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@adm/core';
import { findCases, runCase } from './runner.js';

// Every fixture case of an implemented kind must pass; cases of kinds not implemented yet
// are reported (they FAIL in `npm run parity`) but do not fail this suite.
const root = resolve(fileURLToPath(new URL('../../../shared/fixtures', import.meta.url)));
const dirs = await findCases(root);

describe('parity with guided-diffusion fixtures', () => {
  beforeAll(async () => {
    await useBackend(process.env.ADM_BACKEND ?? 'cpu');
  });
  it('finds the fixture cases', () => {
    expect(dirs.length).toBeGreaterThan(0);
  });
  for (const dir of dirs) {
    it(dir.slice(root.length + 1), async () => {
      const r = await runCase(root, dir, process.env.ADM_BACKEND ?? 'cpu');
      if (!r.implemented) {
        console.warn(`parity: ${r.rel}: ${r.why}`);
        return;
      }
      expect(r.why ?? '', r.why).toBe('');
      expect(r.pass).toBe(true);
    });
  }
});
