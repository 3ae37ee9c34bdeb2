import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonCandidates, loadFrom, type AddonCandidate, type Platform } from './addon.js';

// Which addon file the package loads, in which order, and the one line it gives when none loads.
const AVX2_CPU = new Set(['sse4_2', 'popcnt', 'avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'movbe', 'xsave']);
const SSE_CPU = new Set(['sse4_2', 'popcnt']);
const linux = (over: Partial<Platform> = {}): Platform => ({ env: {}, platform: 'linux', arch: 'x64', glibc: '2.36', cpuFlags: AVX2_CPU, ...over });
const tail = (c: AddonCandidate) => `${c.kind}: ${c.path.split('/').slice(-3).join('/')}`;

describe('addonCandidates', () => {
  it('ADM_NATIVE_ADDON alone when set', () => {
    expect(addonCandidates(linux({ env: { ADM_NATIVE_ADDON: '/opt/x/adm_native.node' } }))).toEqual([{ path: '/opt/x/adm_native.node', kind: 'ADM_NATIVE_ADDON' }]);
  });

  it('on linux-x64 with AVX2: the local build, then the x86-64-v3 prebuilt, then the baseline prebuilt', () => {
    expect(addonCandidates(linux()).map(tail)).toEqual([
      'local build: build/Release/adm_native.node',
      'prebuilt: prebuilds/linux-x64/adm_native.x86-64-v3.node',
      'prebuilt: prebuilds/linux-x64/adm_native.node',
    ]);
  });

  it('on a CPU without AVX2 the baseline prebuilt only (the v3 build would fault)', () => {
    expect(addonCandidates(linux({ cpuFlags: SSE_CPU })).map(tail)).toEqual(['local build: build/Release/adm_native.node', 'prebuilt: prebuilds/linux-x64/adm_native.node']);
  });

  it.each([
    ['darwin', 'arm64', '2.36'],
    ['linux', 'arm64', '2.36'],
    ['win32', 'x64', undefined],
    ['linux', 'x64', undefined], // musl
  ])('no prebuilt on %s-%s (glibc %s)', (platform, arch, glibc) => {
    expect(addonCandidates(linux({ platform, arch, glibc })).map((c) => c.kind)).toEqual(['local build']);
  });
});

describe('loadFrom', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adm-native-load-'));
  const file = (name: string) => {
    const path = join(dir, name);
    writeFileSync(path, '');
    return path;
  };
  const local: AddonCandidate = { path: join(dir, 'absent-local.node'), kind: 'local build' };
  const v3: AddonCandidate = { path: file('v3.node'), kind: 'prebuilt' };
  const base: AddonCandidate = { path: file('base.node'), kind: 'prebuilt' };
  const fake = { info: () => ({ onednn: '2.6.3', cpuRuntime: 'OpenMP', threads: 2, isa: 0x7 }) };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the first file that exists and loads', () => {
    const tried: string[] = [];
    const r = loadFrom([local, v3, base], linux(), (p) => (tried.push(p), fake));
    expect(r).toEqual({ addon: fake, path: v3.path });
    expect(tried).toEqual([v3.path]);
  });

  it('moves on when a file does not load', () => {
    const r = loadFrom([local, v3, base], linux(), (p) => {
      if (p === v3.path) throw new Error('libdnnl.so.2: cannot open shared object file: No such file or directory\nRequire stack: ...');
      return fake;
    });
    expect(r).toEqual({ addon: fake, path: base.path });
  });

  it('when none loads: one line with each failure and the source-build command', () => {
    const r = loadFrom([local, base], linux(), () => {
      throw new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found\nRequire stack: x");
    });
    expect(r).toBe(`the prebuilt ${base.path} does not load (/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.34' not found): build it from source with \`npx adm-native-build\` (needs oneDNN and a C++ toolchain: apt-get install -y libdnnl-dev g++ make python3)`);
  });

  it('on another platform: names it and the source-build command, in one line', () => {
    const r = loadFrom([local], { platform: 'darwin', arch: 'arm64', glibc: undefined }, () => fake);
    expect(typeof r).toBe('string');
    expect(r).toMatch(/^no prebuilt native addon for darwin-arm64 \(only linux-x64 with glibc\): build it from source with `npx adm-native-build`/);
    expect(r).not.toContain('\n');
  });

  it('on musl linux-x64: says so', () => {
    expect(loadFrom([local], { platform: 'linux', arch: 'x64', glibc: undefined }, () => fake)).toMatch(/^no prebuilt native addon for linux-x64 without glibc \(musl\): build it from source/);
  });

  it('a copy without its prebuilds folder: says it is missing', () => {
    expect(loadFrom([local], linux(), () => fake)).toMatch(/^the prebuilt native addon is missing from this copy of @adm\/native \(.*prebuilds\/linux-x64\): reinstall it, or build it from source/);
  });

  it('ADM_NATIVE_ADDON naming no file: says so instead of looking elsewhere', () => {
    const r = loadFrom([{ path: join(dir, 'nope.node'), kind: 'ADM_NATIVE_ADDON' }], linux(), () => fake);
    expect(r).toBe(`ADM_NATIVE_ADDON=${join(dir, 'nope.node')} does not exist: point it at an adm_native.node, or unset it`);
  });
});
