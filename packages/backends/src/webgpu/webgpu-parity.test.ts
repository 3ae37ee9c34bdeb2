// The UNet and classifier parity cases on the webgpu backend (Dawn in Node). Without a GPU
// the adapter is SwiftShader (Debian's chromium package, installed by .ci/run): correct but
// slow, so only two small cases run. Each run is a child process: a live WebGPU device keeps
// Node from exiting, and the parity runner and `adm info` end with process.exit.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const fixtures = resolve(repo, '../shared/fixtures/guided-diffusion');
const CASES = ['unet_forward_b', 'classifier'];

function tsx(args: string[], timeoutMs: number) {
  const r = spawnSync(resolve(repo, 'node_modules/.bin/tsx'), ['--tsconfig', 'tsconfig.base.json', ...args], { cwd: repo, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

describe('parity on webgpu', () => {
  it(`runs ${CASES.join(' and ')} on the WebGPU adapter (skipped, with the reason, when there is none)`, async (ctx) => {
    const info = tsx(['apps/cli/src/main.ts', 'info', '--backend', 'webgpu', '--json'], 120_000);
    const json = info.out.slice(info.out.indexOf('{\n'));
    let report: { running: string; backends: Array<{ name: string; available: true | string; details: Record<string, string> }> };
    try {
      report = JSON.parse(json.slice(0, json.lastIndexOf('}') + 1));
    } catch {
      throw new Error(`adm info --json gave no report (exit ${info.status}):\n${info.out}`);
    }
    const webgpu = report.backends.find((b) => b.name === 'webgpu');
    if (report.running !== 'webgpu') {
      const why = `no WebGPU adapter here: ${webgpu?.available === true ? report.running : webgpu?.available} (.ci/run installs libvulkan1 and chromium-common, which ships SwiftShader)`;
      console.warn(`webgpu parity skipped: ${why}`);
      ctx.skip(why);
      return;
    }
    if (!existsSync(fixtures)) {
      ctx.skip(`fixtures not found at ${fixtures}`);
      return;
    }
    console.log(`webgpu adapter: ${webgpu?.details.adapter}`);
    const filter = `guided-diffusion/(${CASES.join('|')})$`;
    const run = tsx(['tools/parity.ts', '--backend', 'webgpu', '--filter', filter], 570_000);
    const lines = run.out.split('\n').filter((l) => /^(PASS|FAIL|\d+ passed)/.test(l));
    console.log(`webgpu parity on ${webgpu?.details.adapter}:\n${lines.join('\n')}`);
    expect(run.error, String(run.error)).toBeUndefined();
    for (const c of CASES) expect(lines.some((l) => l.startsWith(`PASS guided-diffusion/${c} `)), `${c} on webgpu:\n${run.out.slice(-3000)}`).toBe(true);
    expect(run.status, run.out.slice(-3000)).toBe(0);
  });
});
