import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTO_MIN_CORES, browserWasmThreadsPlugin, wantedWasmThreads, WASM_THREADS_BACKEND } from './wasm-threads-browser.js';

// The browser start itself (workers, the XNNPACK pool) is checked in headless Chromium by
// e2e/page.e2e.test.ts; here: the thread-count rule and when the plugin declines.
describe('browser wasm-mt plugin', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks for one thread per logical core, at least 1 and at most tfjs's 8 pre-created workers", () => {
    expect([1, 2, 3, 4, 8, 16, 64].map((n) => wantedWasmThreads(n))).toEqual([1, 2, 3, 4, 8, 8, 8]);
    expect(wantedWasmThreads(undefined)).toBe(1);
    expect(wantedWasmThreads(0)).toBe(1);
    expect(wantedWasmThreads(Number.NaN)).toBe(1);
    // ?wasmThreads=N overrides the core count, within tfjs's 8 workers
    expect(wantedWasmThreads(2, '6')).toBe(6);
    expect(wantedWasmThreads(16, '1')).toBe(1);
    expect(wantedWasmThreads(2, '')).toBe(2);
    for (const bad of ['0', '9', '2.5', 'four']) expect(() => wantedWasmThreads(2, bad)).toThrow(/\?wasmThreads: expected an integer from 1 to 8/);
  });

  it('declines, saying why, when the page is not cross-origin isolated', async () => {
    expect(browserWasmThreadsPlugin.name).toBe(WASM_THREADS_BACKEND);
    vi.stubGlobal('crossOriginIsolated', false);
    expect(await browserWasmThreadsPlugin.available()).toMatch(/not cross-origin isolated .*COOP.*COEP.*use wasm/);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    vi.stubGlobal('crossOriginIsolated', true);
    expect(await browserWasmThreadsPlugin.available()).toMatch(/SharedArrayBuffer is missing/);
  });

  it('is available when isolated with SharedArrayBuffer and WebAssembly SIMD (Node 20 has SIMD); auto takes it from 4 cores', async () => {
    vi.stubGlobal('crossOriginIsolated', true);
    vi.stubGlobal('navigator', { hardwareConcurrency: AUTO_MIN_CORES });
    expect(await browserWasmThreadsPlugin.available({ explicit: false })).toBe(true);
    vi.stubGlobal('navigator', { hardwareConcurrency: 2 });
    expect(await browserWasmThreadsPlugin.available({ explicit: false })).toMatch(/^2 logical cores \(auto uses threads from 4\); choose wasm-mt/);
    expect(await browserWasmThreadsPlugin.available({ explicit: true })).toBe(true);
  });
});
