// The prebuilt addon npm users get (prebuilds/linux-x64), made by `npm run build:native` and
// at pack time (prepack): the addon compiled for x86-64-v2 (any x86-64 CPU since ~2009) and
// for x86-64-v3 (AVX2/FMA, chosen at run time where the CPU has it), with the shared
// libraries it needs beyond glibc and libstdc++ copied beside it (found through its $ORIGIN
// rpath) and their licenses. Needs what a source build needs (libdnnl-dev, g++, make,
// python3) plus dpkg for the licenses. Skips the work when the layout matches its inputs.
// usage: node scripts/prebuild.mjs [--force]   (ADM_NATIVE_PREBUILD=skip: do nothing)
// Reports on stderr: stdout belongs to `npm pack --json`, which runs this as prepack.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addonDir, buildAddon, packageRoot } from './build-addon.mjs';

const TARGET = 'linux-x64';
/** The files of the layout the loader (src/addon.ts) looks for: baseline first. */
const VARIANTS = [
  { march: 'x86-64-v2', file: 'adm_native.node' },
  { march: 'x86-64-v3', file: 'adm_native.x86-64-v3.node' },
];
/** Shipped beside the addon: oneDNN, the OpenCL ICD loader oneDNN links, GCC's OpenMP runtime (absent from slim images). */
const SHIPPED = ['libdnnl.so.2', 'libOpenCL.so.1', 'libgomp.so.1'];
/** Every glibc system has these (and Node itself links libstdc++/libgcc_s): never copied. */
const SYSTEM = /^(?:\/.*\/)?(linux-vdso\.so|ld-linux-x86-64\.so|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libstdc\+\+\.so|libgcc_s\.so)/;

const outDir = join(packageRoot, 'prebuilds', TARGET);
const manifestFile = join(outDir, 'manifest.json');

/** What the layout is made from: the addon's sources and build files, these scripts. */
function inputsHash() {
  const h = createHash('sha256');
  const files = [
    join(addonDir, 'binding.gyp'),
    ...readdirSync(join(addonDir, 'src')).sort().map((f) => join(addonDir, 'src', f)),
    join(packageRoot, 'scripts/build-addon.mjs'),
    join(packageRoot, 'scripts/prebuild.mjs'),
  ];
  for (const f of files) h.update(f.slice(packageRoot.length)).update(readFileSync(f));
  return h.digest('hex');
}

function upToDate(hash) {
  if (!existsSync(manifestFile)) return false;
  const m = JSON.parse(readFileSync(manifestFile, 'utf8'));
  return m.inputs === hash && [...VARIANTS.map((v) => v.file), ...SHIPPED].every((f) => existsSync(join(outDir, f)));
}

/** soname -> resolved path for each library `file` needs (ldd: the whole closure). */
function linkedLibraries(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' });
  const libs = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(.*?)\s+\(0x/.exec(line) ?? /^\s*(\S+)\s+\(0x/.exec(line);
    if (m) libs.set(m[1], m[2] ?? m[1]);
    else if (/not found/.test(line)) throw new Error(`${file} links a library ldd cannot find: ${line.trim()}`);
  }
  return libs;
}

/** The addon's libraries, checked against SHIPPED + SYSTEM (a new dependency must be shipped or declared system). */
function checkedLibraries(file) {
  const linked = linkedLibraries(file);
  const extra = [...linked.keys()].filter((s) => !SYSTEM.test(s) && !SHIPPED.includes(s));
  const absent = SHIPPED.filter((s) => !linked.has(s));
  if (extra.length || absent.length) {
    throw new Error(`the addon links ${[...linked.keys()].join(', ')}: expected to ship ${SHIPPED.join(', ')} (unexpected: ${extra.join(', ') || 'none'}; not linked: ${absent.join(', ') || 'none'}); update SHIPPED in scripts/prebuild.mjs`);
  }
  return linked;
}

/** The Debian package that installed `path` and its version, e.g. { name: 'libdnnl2', version: '2.6.3-1' }. */
function debianPackage(path) {
  const owner = execFileSync('dpkg-query', ['-S', path], { encoding: 'utf8' }).split(':')[0];
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', owner], { encoding: 'utf8' });
  return { name: owner, version };
}

/** The newest GLIBC_/GLIBCXX_/CXXABI_ symbol versions the shipped files need (what the target system must provide). */
function requiredVersions(files) {
  const newest = {};
  for (const f of files) {
    const syms = execFileSync('objdump', ['-T', f], { encoding: 'utf8', maxBuffer: 256 << 20 });
    for (const [, lib, v] of syms.matchAll(/\b(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)\b/g)) {
      const cmp = (a, b) => a.split('.').map(Number).reduce((r, x, i) => r || x - (Number(b.split('.')[i]) || 0), 0);
      if (!newest[lib] || cmp(v, newest[lib]) > 0) newest[lib] = v;
    }
  }
  return newest;
}

function prebuild(force) {
  if (process.env.ADM_NATIVE_PREBUILD === 'skip') {
    console.error('prebuild: ADM_NATIVE_PREBUILD=skip, the tarball will have no prebuilt addon');
    return;
  }
  if (`${process.platform}-${process.arch}` !== TARGET) {
    throw new Error(`the prebuilt addon is made on ${TARGET} (this is ${process.platform}-${process.arch}); ADM_NATIVE_PREBUILD=skip packs without it`);
  }
  const hash = inputsHash();
  if (!force && upToDate(hash)) {
    console.error(`prebuild: ${outDir} is up to date`);
    return;
  }
  const staging = `${outDir}.staging`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'licenses'), { recursive: true });
  let linked;
  for (const v of VARIANTS) {
    console.error(`prebuild: compiling the addon for -march=${v.march}`);
    copyFileSync(buildAddon({ march: v.march, quiet: true }), join(staging, v.file));
    linked ??= checkedLibraries(join(staging, v.file));
  }
  const libraries = [];
  const commonLicenses = new Set();
  for (const soname of SHIPPED) {
    const from = realpathSync(linked.get(soname));
    copyFileSync(from, join(staging, soname));
    const pkg = debianPackage(from);
    const copyright = `/usr/share/doc/${pkg.name}/copyright`;
    if (!existsSync(copyright)) throw new Error(`no license text for ${soname}: ${copyright} is missing`);
    const text = readFileSync(copyright, 'utf8');
    writeFileSync(join(staging, 'licenses', `${soname}.copyright`), text);
    // Debian's copyright files name the full license texts they rely on (Apache-2.0 for oneDNN, GPL-3 for libgomp).
    for (const [, name] of text.matchAll(/\/usr\/share\/common-licenses\/([A-Za-z0-9.+-]+[A-Za-z0-9+])/g)) commonLicenses.add(name);
    libraries.push({ file: soname, from, package: `${pkg.name} ${pkg.version}`, license: `licenses/${soname}.copyright` });
  }
  for (const name of commonLicenses) {
    const path = `/usr/share/common-licenses/${name}`;
    if (existsSync(path)) copyFileSync(path, join(staging, 'licenses', name));
  }
  const shipped = [...VARIANTS.map((v) => v.file), ...SHIPPED].map((f) => join(staging, f));
  const manifest = {
    target: TARGET,
    variants: VARIANTS,
    libraries,
    requires: requiredVersions(shipped),
    bytes: shipped.reduce((s, f) => s + statSync(f).size, 0),
    inputs: hash,
  };
  writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  // The workspace then loads what npm users get; a local build (npx adm-native-build) would take precedence.
  rmSync(join(addonDir, 'build'), { recursive: true, force: true });
  const r = manifest.requires;
  console.error(`prebuild: ${outDir}: ${VARIANTS.map((v) => v.file).join(', ')} + ${SHIPPED.join(', ')} (${(manifest.bytes / 1e6).toFixed(1)} MB; needs glibc >= ${r.GLIBC}, libstdc++ GLIBCXX_${r.GLIBCXX})`);
}

try {
  prebuild(process.argv.includes('--force'));
} catch (e) {
  console.error(`prebuild: ${e.message}`);
  process.exitCode = 1;
}
