import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviation } from './compare-backends.js';

// The prebuilt addon where the system has no oneDNN: in a mount namespace (unshare -m, as
// root) the system's libdnnl, libOpenCL and libgomp are bind-mounted over by an empty file,
// then a child process loads the package's addon as an installed copy would (no
// ADM_NATIVE_ADDON, no local build) and runs a convolution on native and on cpu.
// Runs wherever it can (linux-x64, root, the system's oneDNN there to hide); it builds the
// prebuilt first when absent (scripts/prebuild.mjs), and fails rather than skips when that
// or the namespace does not work.
const pkg = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
const prebuilt = join(pkg, 'prebuilds/linux-x64');
const LIBDIR = '/usr/lib/x86_64-linux-gnu';
const SYSTEM_LIBS = ['libdnnl.so.2', 'libOpenCL.so.1', 'libgomp.so.1'];
const applicable = process.platform === 'linux' && process.arch === 'x64' && process.getuid?.() === 0 && existsSync(join(LIBDIR, 'libdnnl.so.2'));

describe.runIf(applicable)('the prebuilt addon without a system oneDNN', () => {
  const work = mkdtempSync(join(tmpdir(), 'adm-native-prebuilt-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    if (existsSync(join(prebuilt, 'adm_native.node'))) return;
    const r = spawnSync(process.execPath, [join(pkg, 'scripts/prebuild.mjs')], { cwd: pkg, encoding: 'utf8', timeout: 590_000 });
    expect(r.status, `scripts/prebuild.mjs failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('loads from prebuilds/linux-x64 with its own libdnnl, libOpenCL and libgomp, and convolves as the cpu backend does', () => {
    // The real files behind the sonames (libdnnl.so.2 -> libdnnl.so.2.6): every name for them then reads as empty.
    const hide = SYSTEM_LIBS.map((l) => join(LIBDIR, l)).filter(existsSync).map((p) => realpathSync(p));
    const empty = join(work, 'empty');
    writeFileSync(empty, '');
    const mounts = hide.map((p) => `mount --bind '${empty}' '${p}'`).join(' && ');
    const child = [process.execPath, '--import', 'tsx', join(pkg, 'src/prebuilt-test-process.ts'), JSON.stringify(hide)].map((a) => `'${a}'`).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json') };
    delete env.ADM_NATIVE_ADDON;
    delete env.LD_LIBRARY_PATH;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec ${child}`], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `unshare/child failed (${r.error?.message ?? r.status}):\n${r.stdout}\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.error).toBeUndefined();
    expect(out.masked.map((m: { size: number }) => m.size)).toEqual(hide.map(() => 0));
    expect(out.path.startsWith(`${prebuilt}/adm_native`), out.path).toBe(true);
    const fromSystem = (out.mapped as string[]).filter((p) => /lib(dnnl|OpenCL|gomp)\.so/.test(p) && !p.startsWith(`${prebuilt}/`));
    expect(fromSystem).toEqual([]);
    for (const lib of SYSTEM_LIBS) expect(out.mapped).toContain(join(prebuilt, lib));
    expect(out.onednn).toMatch(/^2\.\d+\.\d+$/);
    expect(out.nativeCalls).toBeGreaterThan(0);
    expect(out.native).toHaveLength(2 * 16 * 16 * 4);
    expect(deviation(out.native, out.cpu).relative).toBeLessThanOrEqual(1e-5);
  });
});
