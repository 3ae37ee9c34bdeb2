#!/usr/bin/env node
// adm-native-build: compile @adm/native's addon from source where the package is installed
// (addon/build/Release/adm_native.node, which the package loads before its prebuilt one).
// Needs oneDNN 2.x with its headers (Debian/Ubuntu: apt-get install -y libdnnl-dev) and a
// C++ toolchain (g++ make python3). Nothing is downloaded when Node's headers sit beside it.
// usage: npx adm-native-build [--march native|x86-64-v2|x86-64-v3|...]   (default: native)
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));
export const addonDir = join(packageRoot, 'addon');
export const builtAddon = join(addonDir, 'build/Release/adm_native.node');
export const NEEDS = 'oneDNN (apt-get install -y libdnnl-dev) and a C++ toolchain (apt-get install -y g++ make python3)';

/** node-gyp as [node, script]: the workspace's dev dependency, else the copy npm bundles, else one on PATH. */
export function findNodeGyp() {
  try {
    return [process.execPath, createRequire(join(packageRoot, 'package.json')).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    // not installed beside the package (the usual case for npm users)
  }
  const npmCli = [process.env.npm_execpath, whichSync('npm')].filter(Boolean).map((p) => realpathSync(p));
  const scripts = [process.env.npm_config_node_gyp, ...npmCli.map((cli) => join(dirname(cli), '../node_modules/node-gyp/bin/node-gyp.js'))];
  const script = scripts.find((p) => p && existsSync(p));
  if (script) return [process.execPath, script];
  const bin = whichSync('node-gyp');
  if (bin) return [bin];
  throw new Error(`node-gyp not found (neither beside @adm/native, nor in npm, nor on PATH): npm install -g node-gyp`);
}

function whichSync(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Node's own headers (official tarballs and distributions ship include/node beside bin/node), so node-gyp downloads nothing. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** Why the toolchain cannot compile the addon (no compiler, no oneDNN headers), or null. */
export function missingPrerequisite() {
  const cxx = process.env.CXX ?? 'c++';
  const r = spawnSync(cxx, ['-E', '-x', 'c++', '-', '-o', '/dev/null'], { input: '#include <dnnl.hpp>\n', encoding: 'utf8' });
  if (r.error) return `no C++ compiler (${cxx}: ${r.error.message}); install ${NEEDS}`;
  if (r.status !== 0) return `oneDNN's headers are missing (dnnl.hpp: ${r.stderr.trim().split('\n')[0]}); install ${NEEDS}`;
  return null;
}

/**
 * `node-gyp rebuild` of addon/ for one -march; returns the built file. Throws with the
 * tail of node-gyp's output when it fails.
 */
export function buildAddon({ march = 'native', quiet = false } = {}) {
  const missing = missingPrerequisite();
  if (missing) throw new Error(`cannot build the native addon: ${missing}`);
  const [cmd, ...pre] = findNodeGyp();
  const args = [...pre, 'rebuild', '--directory', addonDir, '-j', 'max', ...nodedirArgs(), '--', `-Dadm_march=${march}`];
  const r = spawnSync(cmd, args, { cwd: packageRoot, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit' });
  if (r.status !== 0 || !existsSync(builtAddon)) {
    const tail = quiet ? `\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-30).join('\n')}` : '';
    throw new Error(`node-gyp rebuild (-march=${march}) failed${r.error ? `: ${r.error.message}` : ` with status ${r.status}`}${tail}`);
  }
  return builtAddon;
}

function main(argv) {
  const i = argv.indexOf('--march');
  const march = i >= 0 ? argv[i + 1] : 'native';
  if (!march || argv.some((a, k) => a.startsWith('-') && a !== '--march' && k !== i + 1)) {
    console.error('usage: adm-native-build [--march native|x86-64-v2|x86-64-v3|...]');
    return 2;
  }
  try {
    const file = buildAddon({ march });
    process.env.OMP_WAIT_POLICY ??= 'passive';
    const info = createRequire(import.meta.url)(file).info();
    console.log(`adm-native-build: built ${file} (-march=${march}; oneDNN ${info.onednn}, ${info.threads} threads); @adm/native loads it before its prebuilt addon`);
    return 0;
  } catch (e) {
    console.error(`adm-native-build: ${e.message}`);
    return 1;
  }
}

// Run as a command (npx adm-native-build goes through a symlink in node_modules/.bin), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
