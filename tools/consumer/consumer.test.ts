// The packages as npm users get them: every publishable package is built and packed, served
// by a loopback registry for the @adm scope (everything else comes from the usual registry),
// installed into a fresh project and into a global prefix, then used from ESM, CommonJS,
// TypeScript, a Vite page in headless Chromium, and the `adm` command in an empty folder.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../apps/web/src/e2e/static-server.js';
import { startLocalRegistry } from './local-registry.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.ADM_CHROMIUM ?? '/usr/bin/chromium';

/** Every package users install (the web app is a page, not a package). */
const PUBLISHED = ['core', 'schedules', 'unet', 'samplers', 'guidance', 'eval', 'train', 'backends', 'native', 'models-mnist'].map((p) => `packages/${p}`).concat('apps/cli');

/** What a library package must never print or trip over when used as documented. */
const NOISE = /Hi, looks like you are running TensorFlow\.js|vkCreateInstance|externalized for browser compatibility|\bWARN\b.*Dawn/i;

let work: string;
let tarballs: { name: string; file: string; size: number; unpackedSize: number }[] = [];
let registry: { url: string; close(): Promise<void> };
let project: string;

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

const npmFlags = () => ['--no-audit', '--no-fund', '--prefer-offline', `--@adm:registry=${registry.url}`];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'adm-consumer-'));
  await sh('npx', ['nx', 'run-many', '-t', 'build', '--exclude=@adm/web', '--output-style=static'], repo);
  const packDir = join(work, 'tarballs');
  await mkdir(packDir);
  const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', packDir, ...PUBLISHED.flatMap((d) => ['-w', d])], repo);
  tarballs = (JSON.parse(stdout) as { name: string; filename: string; size: number; unpackedSize: number }[]).map((t) => ({
    name: t.name,
    file: join(packDir, t.filename.replace(/^@/, '').replace('/', '-')),
    size: t.size,
    unpackedSize: t.unpackedSize,
  }));
  for (const t of tarballs) if (!existsSync(t.file)) throw new Error(`npm pack reported ${t.file}, which is not there`);
  registry = await startLocalRegistry(tarballs.map((t) => t.file));
  project = join(work, 'project');
  await cp(join(repo, 'tools/consumer/project'), project, { recursive: true });
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'adm-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  const wanted = ['core', 'backends', 'schedules', 'unet', 'samplers', 'guidance', 'eval', 'models-mnist'].map((p) => `@adm/${p}`);
  await sh('npm', ['install', ...npmFlags(), ...wanted], project);
}, 900_000);

afterAll(async () => {
  await registry?.close();
  if (work && !process.env.ADM_KEEP_CONSUMER) await rm(work, { recursive: true, force: true });
});

describe('installed from npm', () => {
  it('tarballs hold no tests and no sources, and publint and arethetypeswrong find no problem', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const problems: string[] = [];
    for (const t of tarballs) {
      const { stdout } = await sh('tar', ['-tzf', t.file], work);
      const files = stdout.trim().split('\n');
      const stray = files.filter((f) => /\.test\.[cm]?[jt]s$|\/src\/.*\.ts$|\/fixtures\//.test(f) && !f.startsWith('package/addon/'));
      if (stray.length) problems.push(`${t.name}: ships ${stray.slice(0, 5).join(', ')}`);
      const tarball = await readFile(t.file);
      const { messages, pkg } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.length) }, strict: true, level: 'suggestion' });
      for (const m of messages) problems.push(`${t.name}: publint ${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
      if (t.name === '@adm/cli') continue; // a command, not a library: it has no types to check
      try {
        await sh(join(repo, 'node_modules/.bin/attw'), [t.file, '--format', 'ascii', '--no-color', '--no-emoji'], work);
      } catch (e) {
        problems.push(`${t.name}: arethetypeswrong: ${(e as Error).message.slice(0, 2000)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it('an ESM program and a CommonJS program sample the same guided digits', async () => {
    const esm = await sh(process.execPath, ['sample-esm.mjs'], project);
    const cjs = await sh(process.execPath, ['sample-cjs.cjs'], project);
    for (const out of [esm, cjs]) expect(out.stderr + out.stdout).not.toMatch(NOISE);
    const a = JSON.parse(esm.stdout.trim().split('\n').pop()!);
    const b = JSON.parse(cjs.stdout.trim().split('\n').pop()!);
    expect(a).toMatchObject({ backend: 'wasm', steps: 4, shape: [2, 28, 28, 1], labels: [3, 3] });
    expect(a.distinct).toBeGreaterThan(16); // an image, not a constant or two-level field
    // One registry, one backend, the same kernels: the CommonJS build gives the same bytes,
    // and both give what the repository's sources give for the same run.
    expect(b).toEqual(a);
    expect(a.sha256).toBe(await sourceSampleSha256());
  }, 300_000);

  it('TypeScript accepts an ESM (.ts) and a CommonJS (.cts) consumer under nodenext and bundler resolution', async () => {
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    // skipLibCheck: TensorFlow.js's own declarations do not pass a strict lib check.
    const common = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--types', 'node', '--typeRoots', join(repo, 'node_modules/@types')];
    await sh(process.execPath, [tsc, ...common, '--module', 'nodenext', '--moduleResolution', 'nodenext', 'typed-esm.ts', 'typed-cjs.cts'], project);
    await sh(process.execPath, [tsc, ...common, '--module', 'node16', '--moduleResolution', 'node16', 'typed-esm.ts', 'typed-cjs.cts'], project);
    await sh(process.execPath, [tsc, ...common, '--module', 'esnext', '--moduleResolution', 'bundler', 'typed-esm.ts'], project);
  }, 300_000);

  it('a Vite page bundles the packages with no Node built-in and samples in headless Chromium', async () => {
    expect(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`).toBe(true);
    const vite = join(repo, 'apps/web/node_modules/vite/bin/vite.js');
    const page = join(project, 'page');
    const build = await sh(process.execPath, [vite, 'build', '--config', join(page, 'vite.config.mjs'), page], project);
    expect(build.stdout + build.stderr).not.toMatch(NOISE);
    const assets = await readdir(join(page, 'dist/assets'));
    expect(assets.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThan(0);
    expect(assets.filter((f) => f.endsWith('.safetensors'))).toHaveLength(2);
    const server = await serveStatic(join(page, 'dist'));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await tab.goto(`${server.url}?backend=wasm`);
      await tab.waitForFunction(() => /^(\{|error)/.test(document.getElementById('out')?.textContent ?? ''), undefined, { timeout: 240_000 });
      const text = (await tab.textContent('#out')) ?? '';
      expect(text).not.toMatch(/^error/);
      const result = JSON.parse(text);
      expect(result).toMatchObject({ backend: 'wasm', shape: [2, 28, 28, 1], labels: [3, 3] });
      expect(result.distinct).toBeGreaterThan(16);
      // The same guided sampler in the browser: the same bytes as in Node (both on tfjs's wasm).
      expect(result.sha256).toBe(await sourceSampleSha256());
      expect(errors).toEqual([]);
      await tab.screenshot({ path: join(work, 'consumer-page.png') });
    } finally {
      await browser.close();
      await server.close();
    }
  }, 600_000);

  it('the globally installed `adm` samples from an empty folder, quietly', async () => {
    const prefix = join(work, 'global');
    await sh('npm', ['install', '-g', '--prefix', prefix, ...npmFlags(), '@adm/cli'], work);
    const adm = join(prefix, 'bin', 'adm');
    const empty = join(work, 'empty');
    await mkdir(empty);
    const version = await sh(adm, ['--version'], empty);
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(join(repo, 'apps/cli/package.json'), 'utf8')).version);
    const help = await sh(adm, ['--help'], empty);
    expect(help.stdout.match(/usage: adm/g)).toHaveLength(1);
    const sample = await runCli(adm, ['sample', '--out', 'out', '--batch', '2', '--steps', 'ddim4', '--seed', '3'], empty);
    expect(sample.code, sample.output).toBe(0);
    expect(sample.output).not.toMatch(NOISE);
    expect((await readdir(join(empty, 'out'))).sort()).toEqual(['grid.png', 'pipeline.json', 'samples_2x28x28x1.npz']);
  }, 600_000);
});

/** The consumer programs' run, on the repository's sources (vitest aliases) in this process (once). */
let sourceSample: Promise<string> | undefined;
function sourceSampleSha256(): Promise<string> {
  sourceSample ??= sampleFromSources();
  return sourceSample;
}

async function sampleFromSources(): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createContainer, pipelineModule, TOKENS, useBackend } = await import('@adm/core');
  await import('@adm/backends');
  const { guidanceModule } = await import('@adm/guidance');
  const { samplersModule } = await import('@adm/samplers');
  const { schedulesModule } = await import('@adm/schedules');
  const { unetModule } = await import('@adm/unet');
  await useBackend('wasm');
  const pipeline = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get<import('@adm/core').SamplingPipeline>(TOKENS.SamplingPipeline);
  for await (const ev of pipeline.run({
    model: join(repo, 'packages/models-mnist/mnist-unet'),
    classifier: join(repo, 'packages/models-mnist/mnist-classifier'),
    ...JSON.parse(await readFile(join(repo, 'tools/consumer/project/run.json'), 'utf8')),
  })) {
    if (ev.type === 'done') return createHash('sha256').update(ev.result.images.data).digest('hex');
  }
  throw new Error('the pipeline ended without a result');
}

/** Run a command with stdout and stderr interleaved as a terminal would show them. */
function runCli(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd, env: process.env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, output }));
  });
}
