import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/** Modules that exist only in Node: in the browser entry each becomes a module that throws when loaded. */
const NODE_ONLY_NAMES = new Set([...builtinModules, 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);
const isNodeOnly = (spec: string) => spec.startsWith('node:') || NODE_ONLY_NAMES.has(spec);

/**
 * Replaces Node-only imports with a stub that throws a clear error when loaded, so a
 * browser bundle contains no Node built-in; the code paths that need them (file I/O, Dawn)
 * load them lazily and fail only when called.
 */
const nodeOnlyStub: EsbuildPlugin = {
  name: 'adm-node-only-stub',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (isNodeOnly(args.path) ? { path: args.path, namespace: 'adm-node-only' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'adm-node-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(
        `${args.path} is only available in Node.js: this function reads files or starts a Node-only backend; in the browser pass bytes or URLs instead`,
      )});`,
      loader: 'js',
    }));
  },
};

/**
 * The build every library package shares: ESM + CommonJS for Node (import.meta.url shimmed
 * in the CommonJS copy) with a declaration file per format and, with `browser: true`, an
 * ESM browser entry (dist/index.browser.js) without Node built-ins.
 */
export function libraryBuild(options: { browser?: boolean; assets?: Record<string, string> } = {}): Options[] {
  // Files other packages ship that this one serves from dist/ (dest under dist -> module specifier).
  const copyAssets = async () => {
    const require = createRequire(join(process.cwd(), 'package.json'));
    for (const [dest, spec] of Object.entries(options.assets ?? {})) {
      const to = join('dist', dest);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(require.resolve(spec), to);
    }
  };
  const builds: Options[] = [
    {
      entry: { index: 'src/index.ts' },
      format: ['esm', 'cjs'],
      platform: 'node',
      target: 'node20',
      dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
      sourcemap: true,
      shims: true,
      onSuccess: copyAssets,
    },
  ];
  if (options.browser) {
    builds.push({
      // src/index.browser.ts when the package has one (it registers browser-only parts), else the Node entry.
      entry: { 'index.browser': existsSync('src/index.browser.ts') ? 'src/index.browser.ts' : 'src/index.ts' },
      format: ['esm'],
      platform: 'browser',
      target: 'es2022',
      dts: false,
      sourcemap: true,
      // tsup would strip `node:` and mark built-ins and dependencies external before the stub sees them.
      removeNodeProtocol: false,
      noExternal: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      esbuildPlugins: [nodeOnlyStub],
    });
  }
  return builds;
}
