import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';

// The UNet, classifier, guided sampling and training-step parity cases (guided-diffusion
// fixtures) on the native backend,
// through the project's parity runner in its own process (a package does not import tools/).
// useBackend('native') throws rather than falling back when the addon is missing, so exit
// status 0 means the cases ran on native.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const notBuilt = loadAddon();
// The runner's default fixture root (tools/parity.ts): the workspace's sibling shared/fixtures.
const fixtures = fileURLToPath(new URL('../../../../shared/fixtures/guided-diffusion', import.meta.url));

describe.skipIf(typeof notBuilt === 'string' || !existsSync(fixtures))('parity cases on the native backend', () => {
  it('unet_forward, superres, classifier, guided DDPM/DDIM and training-step cases pass', () => {
    const r = spawnSync('npm', ['run', '--silent', 'parity', '--', '--backend', 'native', '--filter', 'unet_forward|superres|classifier|ddim_guided|ddpm_guided|training_step'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const summary = /(\d+) passed, (\d+) failed/.exec(out);
    expect(summary, `no parity summary in the output:\n${out.slice(-2000)}`).not.toBeNull();
    expect(Number(summary![1]), `no parity case ran:\n${out.slice(-2000)}`).toBeGreaterThan(0);
    expect(Number(summary![2]), out.slice(-4000)).toBe(0);
    expect(r.status, out.slice(-2000)).toBe(0);
  });
});

describe.skipIf(typeof notBuilt !== 'string' && existsSync(fixtures))('parity cases on the native backend', () => {
  it(`are skipped: ${typeof notBuilt === 'string' ? notBuilt : `no fixtures at ${fixtures}`}`, () => {
    expect(typeof notBuilt === 'string' || !existsSync(fixtures)).toBe(true);
  });
});
