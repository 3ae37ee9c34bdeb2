import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { alias } from '../../vitest.shared.ts';

// Cross-origin isolation lets tfjs-backend-wasm use threads (SharedArrayBuffer) when the
// browser allows it; the same headers are sent by the e2e test's static server.
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs so the built page works from any folder (GitHub Pages, file servers).
  base: './',
  // ADM_WEB_PUBLIC_DIR: a public folder written elsewhere (the e2e test's temp build).
  ...(process.env.ADM_WEB_PUBLIC_DIR ? { publicDir: process.env.ADM_WEB_PUBLIC_DIR } : {}),
  resolve: {
    // The packages' sources (@adm/backends through its browser entry, as the published
    // package's "browser" condition does), plus a stub for the Node-only WebGPU (Dawn) import.
    alias: {
      ...alias,
      '@adm/backends': fileURLToPath(new URL('../../packages/backends/src/index.browser.ts', import.meta.url)),
      webgpu: fileURLToPath(new URL('src/node-only-stub.ts', import.meta.url)),
    },
  },
  // wasm-threads-browser.ts imports these Emscripten files directly: pre-bundle them up front
  // (else `vite dev` finds them on the first load and reloads the page).
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
      '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js',
    ],
  },
  server: { headers: isolationHeaders, host: '127.0.0.1' },
  preview: { headers: isolationHeaders, host: '127.0.0.1' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
});
