import { libraryBuild } from '../../tsup.base';

// dist/wasm/: tfjs-backend-wasm's binaries, found by browser bundles through bundledWasmPaths().
const wasm = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

export default libraryBuild({
  browser: true,
  assets: Object.fromEntries(wasm.map((f) => [`wasm/${f}`, `@tensorflow/tfjs-backend-wasm/dist/${f}`])),
});
