// Where the browser finds tfjs-backend-wasm's .wasm binaries. A bundle moves the JavaScript
// away from node_modules, so tfjs's default (next to its own script) finds nothing there.

/** The three binaries tfjs-backend-wasm may load, by the file names it asks for. */
export type WasmFileName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** A folder URL holding the three files, or each file's own URL. */
export type WasmPaths = string | Partial<Record<WasmFileName, string>>;

let configured: WasmPaths | undefined;

/**
 * Tell the browser wasm backend where the .wasm files are: a folder URL ending in '/' (copy
 * node_modules/@adm/backends/dist/wasm/ there) or one URL per file. Not needed with Vite,
 * Rollup or webpack 5, which emit the package's own copies (see bundledWasmPaths).
 */
export function setWasmPaths(paths: WasmPaths): void {
  if (typeof paths === 'string' && !paths.endsWith('/')) {
    throw new TypeError(`setWasmPaths: a folder URL must end with "/", got "${paths}"`);
  }
  configured = paths;
}

/**
 * The copies shipped in this package's dist/wasm/ (copied at build time), written as literal
 * `new URL(..., import.meta.url)` so that bundlers emit each file as an asset and rewrite the URL.
 */
export function bundledWasmPaths(): Record<WasmFileName, string> {
  return {
    'tfjs-backend-wasm.wasm': new URL('./wasm/tfjs-backend-wasm.wasm', import.meta.url).href,
    'tfjs-backend-wasm-simd.wasm': new URL('./wasm/tfjs-backend-wasm-simd.wasm', import.meta.url).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL('./wasm/tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
  };
}

/** What the wasm backend is pointed at: setWasmPaths' value, else the bundled copies. */
export function wasmPathsInUse(): WasmPaths {
  return configured ?? bundledWasmPaths();
}
