// Rewrites the publishable packages' package.json metadata in one place (run after adding a
// package): per-condition exports with their own declaration files, engines, repository,
// files (dist only; tests never reach a tarball). `node tools/release/package-meta.mjs`
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const REPOSITORY = 'git+https://github.com/adm-diffusion/adm.git';
const descriptions = {
  '@adm/core': 'Guided diffusion (ADM) core: contracts and DI tokens, the Gaussian diffusion process, safetensors/.pt/.npz I/O, seeded RNG, backend selection',
  '@adm/schedules': 'Guided diffusion (ADM): linear and cosine noise schedules and timestep respacing (ddim25, 250, 10,15,20)',
  '@adm/unet': "Guided diffusion (ADM): the ADM UNet, SuperResModel and noisy classifier on TensorFlow.js, guided-diffusion's parameter names, model folders",
  '@adm/samplers': 'Guided diffusion (ADM): DDPM ancestral, DDIM(eta) and DPM-Solver++ samplers',
  '@adm/guidance': 'Guided diffusion (ADM): classifier guidance (mean-shift and score forms) and classifier-free guidance',
  '@adm/eval': "Guided diffusion (ADM): FID, sFID, Inception Score and improved precision/recall, as openai/guided-diffusion's evaluator computes them",
  '@adm/train': 'Guided diffusion (ADM): denoiser and noisy-classifier training (hybrid loss, AdamW, EMA, timestep samplers, resumable checkpoints)',
  '@adm/backends': 'Guided diffusion (ADM): TensorFlow.js backend plugins: wasm with training kernels, threaded wasm, WebGPU (Dawn), tfjs-node',
  '@adm/native': "TensorFlow.js backend 'native': the cpu backend with oneDNN and OpenMP kernels from an optional N-API addon",
  '@adm/models-mnist': 'Guided diffusion (ADM): the default MNIST models (class-conditional denoiser and noisy classifier) as model folders',
  '@adm/cli': 'The adm command: guided diffusion sampling, training and evaluation from the shell',
};
/** Packages that also build dist/index.browser.js (tsup.base.ts: libraryBuild({ browser: true })). */
const BROWSER = new Set(['@adm/core', '@adm/schedules', '@adm/unet', '@adm/samplers', '@adm/guidance', '@adm/backends']);
const dirs = ['core', 'schedules', 'unet', 'samplers', 'guidance', 'eval', 'train', 'backends', 'native', 'models-mnist'].map((p) => `packages/${p}`);
dirs.push('apps/cli');

for (const dir of dirs) {
  const file = join(root, dir, 'package.json');
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const isLib = dir.startsWith('packages/');
  const browser = BROWSER.has(pkg.name);
  const out = {
    name: pkg.name,
    version: pkg.version,
    description: descriptions[pkg.name] ?? pkg.description,
    keywords: ['diffusion', 'guided-diffusion', 'adm', 'tensorflowjs', 'machine-learning'],
    license: 'MIT',
    repository: { type: 'git', url: REPOSITORY, directory: dir },
    engines: { node: '>=20.19' },
    type: 'module',
  };
  if (isLib) {
    const node = { import: { types: './dist/index.d.ts', default: './dist/index.js' }, require: { types: './dist/index.d.cts', default: './dist/index.cjs' } };
    Object.assign(out, {
      main: './dist/index.cjs',
      module: './dist/index.js',
      // Resolvers without exports maps (TypeScript's node10) pair `main` (CommonJS) with these types.
      types: './dist/index.d.cts',
      exports: {
        '.': browser ? { browser: { types: './dist/index.d.ts', default: './dist/index.browser.js' }, ...node } : node,
        './package.json': './package.json',
      },
    });
  }
  for (const k of Object.keys(pkg)) if (!(k in out) && !['exports', 'main', 'module', 'types'].includes(k)) out[k] = pkg[k];
  if (isLib && !pkg.files?.some((f) => f !== 'dist')) out.files = ['dist'];
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
