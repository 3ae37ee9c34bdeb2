// Types for tfjs-backend-wasm's Emscripten output files, which ship without declarations
// (tfjs imports them with @ts-ignore).
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  /** The pthread worker's script text (Emscripten's worker.js). */
  export const wasmWorkerContents: string;
}
