import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

/** `adm` started the way `npm run adm` starts it (tsx on src/main.ts), stdout and stderr apart. */
async function adm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
      cwd: repo,
      env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.base.json', ADM_BACKEND: 'no-such-backend' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('adm', () => {
  it('prints its help once, with every command and its summary', async () => {
    const { code, stdout, stderr } = await adm('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.match(/usage: adm/g)).toHaveLength(1);
    expect(stdout).toMatch(/^ {2}sample +sample images .*PNG grid/m);
    expect(stdout).toMatch(/^ {2}train-classifier +train a noisy-image classifier/m);
  });

  it('prints its version', async () => {
    expect(await adm('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await adm('-V')).stdout).toBe(`${version}\n`);
  });

  // ADM_BACKEND names no backend: a flag error that came after the backend starts would say so instead.
  it.each([
    [['sample', '--frobnicate'], /^adm sample: --frobnicate: Unknown option '--frobnicate' \(known flags of adm sample: --model, /],
    [['sample', '--out', 'x', '--sampler', 'euler'], /^adm sample: --sampler: unknown sampler "euler" \(known: ddpm, ddim, dpm-solver\+\+\)$/],
    [['sample', '--out', 'x', '--batch', '0'], /^adm sample: --batch: /],
    [['eval', '--frobnicate'], /^adm eval: --frobnicate: Unknown option/],
  ])('refuses %j before any backend starts, on one line with one prefix', async (args, message) => {
    const { code, stdout, stderr } = await adm(...args);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.trimEnd()).toMatch(message);
  });
});
