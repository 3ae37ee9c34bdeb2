// @adm/backends in a browser bundle (the package's "browser" export condition): the same
// exports as in Node, but importing it registers the browser's backends (WebGPU through
// navigator.gpu, WebGL, wasm with its binaries found through setWasmPaths or the bundler)
// instead of Node's (Dawn, tfjs-node, Node's threaded wasm).
import { registerBrowserBackends } from './exports.js';

export * from './exports.js';

registerBrowserBackends();
