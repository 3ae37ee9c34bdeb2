import * as tf from '@tensorflow/tfjs';
import type { BackendPlugin } from '@adm/core';
import { registerPreciseTrig } from './webgpu/precise-trig.js';

/** Debian's chromium package ships Google's SwiftShader (software Vulkan) with this ICD file. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** What we learned about the WebGPU adapter, for `adm info` and test output. */
export interface WebGpuAdapterReport {
  /** GPU name (vendor, device, description as Dawn reports them). */
  name: string;
  /** true for a software rasteriser (SwiftShader, or the adapter says it is a fallback). */
  software: boolean;
  /** 'navigator.gpu' (browser) or 'dawn (webgpu npm package)' */
  via: string;
  /** VK_ICD_FILENAMES when we set it to reach SwiftShader. */
  icd?: string;
}

interface GpuLike {
  requestAdapter(opts?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: Record<string, string>;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<Record<string, string>>;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let probe: Promise<{ report?: WebGpuAdapterReport; reason?: string }> | undefined;
let scout: Promise<{ report?: WebGpuAdapterReport; reason?: string }> | undefined;

/** Dawn for Node is an optional peer: without it, the one line `adm info` shows for webgpu. */
const NOT_INSTALLED = "not enabled: the optional 'webgpu' npm package (Dawn for Node) is not installed; npm install webgpu to enable it";

/**
 * Dawn asks the Vulkan loader for drivers when it starts and prints warnings on stderr where
 * there are none (a machine without a GPU): a child Node process looks first, with its stderr
 * kept, so that "auto" can pass over WebGPU without Dawn ever starting in this process.
 */
const SCOUT_SCRIPT = `
const [spec, icd] = process.argv.slice(1);
const { existsSync } = await import('node:fs');
const webgpu = await import(spec);
Object.assign(globalThis, webgpu.globals);
const look = async () => {
  const adapter = await webgpu.create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  let info = {};
  try { info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {}); } catch {}
  return { info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description }, isFallbackAdapter: !!adapter.isFallbackAdapter };
};
let found = await look();
let usedIcd;
if (!found && !process.env.VK_ICD_FILENAMES && existsSync(icd)) {
  process.env.VK_ICD_FILENAMES = usedIcd = icd;
  found = await look();
}
process.stdout.write(JSON.stringify({ found, usedIcd }));
process.exit(0);
`;

/** What Dawn would find, asked in a child process (Node only); the answer's ICD is then used here too. */
function scoutWebGpu(): Promise<{ report?: WebGpuAdapterReport; reason?: string }> {
  scout ??= (async () => {
    const [{ execFile }, { createRequire }, { pathToFileURL }] = await Promise.all([import('node:child_process'), import('node:module'), import('node:url')]);
    let spec: string;
    try {
      spec = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
    } catch (e) {
      if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') return { reason: NOT_INSTALLED };
      return { reason: `the 'webgpu' npm package (Dawn for Node) cannot be found: ${(e as Error).message.split('\n')[0]}` };
    }
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', SCOUT_SCRIPT, spec, SWIFTSHADER_ICD], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const { found, usedIcd } = JSON.parse(out) as { found: AdapterLike | null; usedIcd?: string };
    if (!found) return { reason: `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}${usedIcd ? `, then ${usedIcd}` : ''})` };
    return { report: await describeAdapter(found, 'dawn (webgpu npm package)', usedIcd) };
  })().catch((e: Error) => ({ reason: `WebGPU probe failed: ${e.message.split('\n')[0]}` }));
  return scout;
}

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

async function describeAdapter(adapter: AdapterLike, via: string, icd?: string): Promise<WebGpuAdapterReport> {
  let info: Record<string, string> = {};
  try {
    info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
  } catch {
    /* older Dawn: no adapter info */
  }
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p && String(p).trim());
  const name = [...new Set(parts.map(String))].join(' / ') || 'unnamed adapter';
  const software = !!adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(name);
  return { name, software, via, icd };
}

/**
 * In Node, make `navigator.gpu` from Dawn (the `webgpu` npm package). When no adapter shows
 * up and VK_ICD_FILENAMES is unset, retry with the SwiftShader ICD from Debian's chromium
 * package. Must run before '@tensorflow/tfjs-backend-webgpu' is imported: it registers
 * itself only if navigator.gpu exists at import time. A live GPU object keeps Node's event
 * loop alive: programs that use this backend end with process.exit().
 */
async function installNodeGpu(): Promise<{ report?: WebGpuAdapterReport; reason?: string }> {
  let webgpu: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    // Variable specifiers: browser bundlers must not try to bundle Dawn's Node addon.
    const spec = 'webgpu';
    webgpu = (await import(/* @vite-ignore */ spec)) as unknown as typeof webgpu;
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_MODULE_NOT_FOUND' && /'webgpu'/.test(err.message)) return { reason: NOT_INSTALLED };
    return { reason: `the 'webgpu' npm package (Dawn for Node) did not load: ${err.message.split('\n')[0]}` };
  }
  const fsSpec = 'node:fs';
  const { existsSync } = (await import(/* @vite-ignore */ fsSpec)) as typeof import('node:fs');
  Object.assign(globalThis, webgpu.globals);
  let gpu = webgpu.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  let icd: string | undefined;
  if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = icd = SWIFTSHADER_ICD;
    gpu = webgpu.create([]);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  }
  if (!adapter) {
    const hint = existsSync(SWIFTSHADER_ICD)
      ? `(VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`
      : `(no Vulkan driver; for a software adapter: apt-get install chromium, which ships ${SWIFTSHADER_ICD})`;
    return { reason: `Dawn found no WebGPU adapter ${hint}` };
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return { report: await describeAdapter(adapter, 'dawn (webgpu npm package)', icd) };
}

/** Find (once) the WebGPU adapter the webgpu backend would use. */
export function probeWebGpu(): Promise<{ report?: WebGpuAdapterReport; reason?: string }> {
  probe ??= (async () => {
    const gpu = navigatorGpu();
    if (gpu) {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) return { reason: 'navigator.gpu gave no adapter' };
      return { report: await describeAdapter(adapter, 'navigator.gpu') };
    }
    if (!isNode) return { reason: 'this browser has no navigator.gpu (WebGPU)' };
    return installNodeGpu();
  })().catch((e: Error) => ({ reason: `WebGPU probe failed: ${e.message.split('\n')[0]}` }));
  return probe;
}

export const webgpuPlugin: BackendPlugin = {
  name: 'webgpu',
  priority: 30,
  async available(context) {
    // In Node, a child process looks first: Dawn starts here only for an adapter that will be used.
    const { report, reason } = isNode && !navigatorGpu() ? await scoutWebGpu() : await probeWebGpu();
    if (!report) return reason ?? 'no WebGPU adapter';
    if (report.software && !context?.explicit) {
      return `only a software adapter (${report.name}): slower than wasm, so "auto" skips it; ask for it with --backend webgpu`;
    }
    return true;
  },
  async activate() {
    // The scout's ICD (SwiftShader) spares Dawn a failed first look, and its warnings, here.
    const scouted = isNode && scout ? await scout : undefined;
    if (scouted?.report?.icd && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = scouted.report.icd;
    const { report, reason } = await probeWebGpu();
    if (!report) throw new Error(reason ?? 'no WebGPU adapter');
    await import('@tensorflow/tfjs-backend-webgpu');
    // Keep small ops on the GPU instead of bouncing them through the CPU.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    // WGSL sin/cos are only ~2^-11 accurate: replace them (see preciseSin).
    registerPreciseTrig('webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs could not initialise the webgpu backend on ${report.name}`);
    await tf.ready();
  },
  async describe() {
    const { report, reason } = isNode && !navigatorGpu() && !probe ? await scoutWebGpu() : await probeWebGpu();
    // Without Dawn, available() has said all there is (how to enable it).
    if (reason === NOT_INSTALLED) return {};
    if (!report) return { adapter: `none (${reason})` };
    const out: Record<string, string> = {
      adapter: `${report.name}${report.software ? ' (software fallback, CPU-emulated; correct but slow)' : ''}`,
      via: report.via,
    };
    if (report.icd) out.icd = report.icd;
    return out;
  },
};
