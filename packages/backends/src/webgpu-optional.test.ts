import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../..', import.meta.url));
let dir: string;

// An install without the optional peer 'webgpu' (Dawn): this package's sources next to a
// node_modules that links every installed package but that one.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adm-no-webgpu-'));
  await cp(fileURLToPath(new URL('.', import.meta.url)), join(dir, 'src'), { recursive: true });
  await mkdir(join(dir, 'node_modules'));
  for (const name of await readdir(join(repo, 'node_modules'))) {
    if (name !== 'webgpu') await symlink(join(repo, 'node_modules', name), join(dir, 'node_modules', name));
  }
  await writeFile(join(dir, 'package.json'), '{"type": "module"}\n');
  await writeFile(
    join(dir, 'probe.ts'),
    `import { webgpuPlugin } from './src/webgpu-plugin.js';
console.log(JSON.stringify(await webgpuPlugin.available({ explicit: true })));
console.log(JSON.stringify(await webgpuPlugin.describe!()));
console.log(JSON.stringify(await webgpuPlugin.activate().then(() => 'activated', (e: Error) => e.message)));
`,
  );
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the webgpu plugin without the webgpu package', () => {
  it('loads, says in one line how to enable it, and refuses to activate with the same line', async () => {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'probe.ts'], { cwd: dir });
    const hint = "not enabled: the optional 'webgpu' npm package (Dawn for Node) is not installed; npm install webgpu to enable it";
    expect(stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([hint, {}, hint]);
    expect(stderr).toBe('');
  }, 60_000);
});
