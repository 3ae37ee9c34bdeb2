import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The functions of the compiled addon (addon/src/*.cc). Arrays are float32, channels last; outputs are passed in and returned. */
export interface NativeAddon {
  info(): { onednn: string; cpuRuntime: string; threads: number; isa: number };
  setThreads(threads: number): void;
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, activation: number, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, xShape: number[], wShape: number[], outHW: number[], strides: number[], dilations: number[], pads: number[], out: Float32Array): Float32Array;
  convImplementations(): Record<string, string>;
  matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, activation: number, batchA: number, batchB: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, out: Float32Array): Float32Array;
  binary(op: number, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], outShape: number[], out: Float32Array): Float32Array;
  unary(op: number, x: Float32Array, out: Float32Array): Float32Array;
  siluGrad(x: Float32Array, dy: Float32Array, out: Float32Array): Float32Array;
  reduce(op: number, x: Float32Array, shape: number[], axes: number[], out: Float32Array): Float32Array;
  softmax(logits: Float32Array, rows: number, depth: number, out: Float32Array): Float32Array;
  transpose(x: Float32Array, shape: number[], perm: number[], out: Float32Array): Float32Array;
  copyBlock(src: Float32Array, srcShape: number[], srcBegin: number[], dst: Float32Array, dstShape: number[], dstBegin: number[], size: number[]): Float32Array;
  groupNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, n: number, s: number, c: number, groups: number, eps: number, silu: boolean, y: Float32Array, mean: Float32Array, rstd: Float32Array): [Float32Array, Float32Array, Float32Array];
  groupNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, rstd: Float32Array, n: number, s: number, c: number, groups: number, silu: boolean, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): [Float32Array, Float32Array, Float32Array];
}

/** Where an addon may be, in the order loadAddon tries them. */
export interface AddonCandidate {
  path: string;
  kind: 'ADM_NATIVE_ADDON' | 'local build' | 'prebuilt';
}

/** The platform the package ships a prebuilt addon for (scripts/prebuild.mjs). */
export const PREBUILT_TARGET = 'linux-x64';

/** The source build of an installed package: needs oneDNN's headers and a C++ toolchain. */
export const SOURCE_BUILD =
  'build it from source with `npx adm-native-build` (needs oneDNN and a C++ toolchain: apt-get install -y libdnnl-dev g++ make python3)';

// src/ and dist/ sit one level below the package root.
const packageFile = (rel: string) => fileURLToPath(new URL(`../${rel}`, import.meta.url));

/**
 * x86-64-v3's features as /proc/cpuinfo names them. LZCNT ('abm') is left out: hypervisors
 * hide its flag on CPUs that have it, every AVX2 CPU has it, and the v3 build emits none.
 */
const X86_64_V3 = ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'movbe', 'xsave'];

/** The CPU's feature flags (Linux /proc/cpuinfo), empty where unknown. */
export function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

export interface Platform {
  env: Record<string, string | undefined>;
  platform: string;
  arch: string;
  /** glibc's version, undefined on musl and non-Linux systems (process.report's header). */
  glibc?: string;
  cpuFlags: Set<string>;
}

function thisPlatform(): Platform {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return { env: process.env, platform: process.platform, arch: process.arch, glibc: header?.glibcVersionRuntime, cpuFlags: cpuFlags() };
}

/**
 * The addons to try, in order: ADM_NATIVE_ADDON alone when set; else a local build
 * (addon/build/Release, from `npx adm-native-build`), then the prebuilt for this platform
 * (its x86-64-v3 build first where the CPU has AVX2 and FMA).
 */
export function addonCandidates(p: Platform = thisPlatform()): AddonCandidate[] {
  if (p.env.ADM_NATIVE_ADDON) return [{ path: p.env.ADM_NATIVE_ADDON, kind: 'ADM_NATIVE_ADDON' }];
  const list: AddonCandidate[] = [{ path: packageFile('addon/build/Release/adm_native.node'), kind: 'local build' }];
  if (`${p.platform}-${p.arch}` === PREBUILT_TARGET && p.glibc) {
    const dir = `prebuilds/${PREBUILT_TARGET}`;
    if (X86_64_V3.every((f) => p.cpuFlags.has(f))) list.push({ path: packageFile(`${dir}/adm_native.x86-64-v3.node`), kind: 'prebuilt' });
    list.push({ path: packageFile(`${dir}/adm_native.node`), kind: 'prebuilt' });
  }
  return list;
}

/** The first line of a load error, without the path the caller already names. */
const firstLine = (e: unknown) => (e as Error).message.split('\n')[0];

/**
 * Load the first candidate that loads; else one line saying why none did and what would
 * enable the backend. `load` is Node's require of a .node file.
 */
export function loadFrom(candidates: AddonCandidate[], p: Pick<Platform, 'platform' | 'arch' | 'glibc'>, load: (path: string) => unknown): { addon: NativeAddon; path: string } | string {
  const failures: string[] = [];
  for (const c of candidates) {
    if (!existsSync(c.path)) {
      if (c.kind === 'ADM_NATIVE_ADDON') return `ADM_NATIVE_ADDON=${c.path} does not exist: point it at an adm_native.node, or unset it`;
      continue;
    }
    try {
      return { addon: load(c.path) as NativeAddon, path: c.path };
    } catch (e) {
      failures.push(`the ${c.kind} ${c.path} does not load (${firstLine(e)})`);
    }
  }
  const target = `${p.platform}-${p.arch}`;
  if (failures.length) return `${failures.join('; ')}: ${SOURCE_BUILD}`;
  if (target !== PREBUILT_TARGET) return `no prebuilt native addon for ${target} (only ${PREBUILT_TARGET} with glibc): ${SOURCE_BUILD}`;
  if (!p.glibc) return `no prebuilt native addon for ${target} without glibc (musl): ${SOURCE_BUILD}`;
  return `the prebuilt native addon is missing from this copy of @adm/native (${packageFile(`prebuilds/${PREBUILT_TARGET}`)}): reinstall it, or ${SOURCE_BUILD}`;
}

let loaded: { addon: NativeAddon; path: string } | string | undefined;

/** The addon, or one line saying why it is unavailable and how to enable it. Loaded once. */
export function loadAddon(): NativeAddon | string {
  if (loaded === undefined) {
    // OpenMP threads that spin while waiting starve each other (and everything else) on a
    // loaded machine: 5-8x slower kernels measured on 2 shared cores. Sleep instead unless
    // the user chose otherwise. Read by libgomp when the addon loads it, so set it first.
    process.env.OMP_WAIT_POLICY ??= 'passive';
    const p = thisPlatform();
    loaded = loadFrom(addonCandidates(p), p, createRequire(import.meta.url));
  }
  return typeof loaded === 'string' ? loaded : loaded.addon;
}

/** The file loadAddon loaded the addon from; null when it did not load. */
export function addonPath(): string | null {
  loadAddon();
  return typeof loaded === 'object' ? loaded.path : null;
}
