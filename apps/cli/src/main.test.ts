import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNpz } from '@adm/core';
import { main } from './main.js';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const cliDir = join(repo, 'apps/cli');
let version: string;
let dir: string;
/** A packed-like copy of the CLI (bin/, dist/ built by tsup, package.json) under apps/cli/node_modules, where its dependencies resolve. */
let built: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function spawn(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(process.execPath, args, { cwd: repo, env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.base.json', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * `adm` started the way `npm run adm` starts it (tsx on src/main.ts). ADM_BACKEND names no
 * backend (here and in inProcess): anything that reaches the backend fails saying so, so an
 * error about a flag proves the flag was checked before any backend was looked for.
 */
function adm(...args: string[]): Promise<Result> {
  return spawn(['--import', 'tsx', 'apps/cli/src/main.ts', ...args], { ADM_BACKEND: 'no-such-backend' });
}

/** main() in this process (no start-up cost): what it writes on stdout and stderr, with ADM_BACKEND naming no backend. */
async function inProcess(args: string[]): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void stdout.push(`${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void stderr.push(`${a.join(' ')}\n`));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  const before = process.env.ADM_BACKEND;
  process.env.ADM_BACKEND = 'no-such-backend';
  try {
    const code = await main(args);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    if (before === undefined) delete process.env.ADM_BACKEND;
    else process.env.ADM_BACKEND = before;
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

beforeAll(async () => {
  version = JSON.parse(await readFile(join(cliDir, 'package.json'), 'utf8')).version;
  dir = await mkdtemp(join(tmpdir(), 'adm-cli-'));
  built = join(cliDir, 'node_modules/.cache', `adm-bin-test-${process.pid}`);
  await mkdir(join(built, 'bin'), { recursive: true });
  await copyFile(join(cliDir, 'bin/adm.js'), join(built, 'bin/adm.js'));
  await copyFile(join(cliDir, 'package.json'), join(built, 'package.json'));
  await exec(process.execPath, [join(repo, 'node_modules/tsup/dist/cli-default.js'), '--out-dir', join(built, 'dist'), '--no-sourcemap', '--silent'], { cwd: cliDir });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(built, { recursive: true, force: true });
});

describe('adm', () => {
  it('prints its help once, with every command and its summary', async () => {
    const { code, stdout, stderr } = await adm('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.match(/usage: adm/g)).toHaveLength(1);
    for (const name of ['convert', 'eval', 'info', 'sample', 'train', 'train-classifier']) expect(stdout).toMatch(new RegExp(`^ {2}${name} +[a-zA-Z]`, 'm'));
    expect(stdout).toMatch(/^ {2}sample +sample images .*PNG grid/m);
    expect(stdout).toMatch(/^ {2}--verbose +also print backend probing/m);
  });

  it('runs once through its bin, built as it is packed', async () => {
    const help = await spawn([join(built, 'bin/adm.js'), '--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout.match(/usage: adm/g)).toHaveLength(1);
    expect(await spawn([join(built, 'bin/adm.js'), '--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const bad = await spawn([join(built, 'bin/adm.js'), 'sample', '--out', join(dir, 'x'), '--sampler', 'foo'], { ADM_BACKEND: 'no-such-backend' });
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'adm sample: --sampler: unknown sampler "foo" (known: ddpm, ddim, dpm-solver++)\n' });
  });

  it('prints its version', async () => {
    expect(await adm('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await adm('-V')).stdout).toBe(`${version}\n`);
  });

  it('answers no command or an unknown one with exit status 2', async () => {
    const none = await adm();
    expect([none.code, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toMatch(/^usage: adm <command>/);
    expect(await adm('smaple')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'adm: unknown command "smaple" (commands: convert, eval, info, sample, train, train-classifier; adm --help)\n',
    });
  });

  it.each([
    [['sample', '--frobnicate'], /^adm sample: --frobnicate: Unknown option '--frobnicate' \(known flags of adm sample: --model, /],
    [['sample', '--out', 'x', '--sampler', 'euler'], /^adm sample: --sampler: unknown sampler "euler" \(known: ddpm, ddim, dpm-solver\+\+\)$/],
    [['sample', '--verbose', '--out', 'x', '--quiet', '--sampler', 'euler'], /^adm sample: --sampler: unknown sampler "euler"/],
    [['sample', '--out', 'x', '--steps', 'ddim600'], /^adm sample: --steps: "ddim600": no integer stride takes exactly 600 of 1000 steps \(nearest possible: ddim334, ddim500\)$/],
    [['sample', '--out', 'x', '--batch', '0'], /^adm sample: --batch: expected an integer >= 1, got "0"$/],
    [['sample', '--out', 'x', '--class', '10'], /^adm sample: --class: class 10 is out of range: the model has 10 classes \(0\.\.9\)$/],
    [['sample', '--out', 'x', '--sampler', 'ddim', '--eta=-1'], /^adm sample: --eta: must be a number >= 0, got -1$/],
    [['train', '--preset', 'mnist', '--data', 'mnist', '--out', 'x', '--ema', '0.9,fast'], /^adm train: --ema: "fast" is not a number/],
    [['train', '--preset', 'mnist', '--data', 'mnist', '--out', 'x', '--schedule-sampler', 'sometimes'], /^adm train: --schedule-sampler: unknown schedule sampler "sometimes" \(known: uniform, loss-second-moment\)$/],
    [['train', '--preset', 'cifar', '--data', 'mnist', '--out', 'x'], /^adm train: --preset: unknown preset "cifar" \(known: /],
    [['train', '--preset', 'mnist', '--data', 'nowhere.npz', '--out', 'x'], /^adm train: --data: nowhere\.npz not found; expected "mnist"/],
    [['train-classifier', '--preset', 'mnist-classifier', '--data', 'mnist', '--out', 'x', '--steps', '0'], /^adm train-classifier: --steps: expected an integer >= 1, got "0"$/],
    [['eval', 'a.npz', 'b.npz', '--inception', 'w.pth', '--nearest-k', '0'], /^adm eval: --nearest-k: expected a positive integer, got "0"$/],
    [['eval', 'a.npz', 'b.npz', '--inception', 'w.pth'], /^adm eval: --inception: w\.pth not found$/],
    [['eval', '--frobnicate'], /^adm eval: --frobnicate: Unknown option/],
    [['convert', 'a.pt', 'out', '--preset', 'mnist', '--model-type', 'vae'], /^adm convert: --model-type: expected unet, superres or classifier, got "vae"$/],
    [['info', '--frobnicate'], /^adm info: --frobnicate: Unknown option/],
  ])('refuses %j before any backend starts: one line, one prefix, exit status 2', async (args, message) => {
    const { code, stdout, stderr } = await inProcess(args);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.trimEnd()).toMatch(message);
    expect(code).toBe(2);
  });

  it('checks flags started through tsx too, and names ADM_BACKEND when the flags are good and the backend it names does not exist', async () => {
    expect(await adm('sample', '--out', join(dir, 'never'), '--sampler', 'euler')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'adm sample: --sampler: unknown sampler "euler" (known: ddpm, ddim, dpm-solver++)\n',
    });
    const { code, stdout, stderr } = await adm('sample', '--out', join(dir, 'never'), '--steps', '2');
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^adm sample: ADM_BACKEND: unknown backend "no-such-backend" \(registered: [^\n]*\)\n$/);
    expect(code).toBe(1);
  });

  it('samples quietly by default: plain progress lines without carriage returns on a pipe, then one summary line', async () => {
    const out = join(dir, 'samples');
    const flags = ['sample', '--out', out, '--steps', '2', '--sampler', 'ddpm', '--batch', '1', '--class', '3', '--classifier', 'none', '--backend', 'cpu'];
    const { code, stdout, stderr } = await adm(...flags);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('\r');
    const lines = stderr.trimEnd().split('\n');
    // The first line is the CLI's own: no backend probing, no library notices before it.
    expect(lines[0]).toMatch(/^sample 1\/2 steps \(50%\) /);
    expect(lines[1]).toMatch(/^sample 2\/2 steps \(100%\) \S+ eta \S+ base batch 1\/1$/);
    expect(lines[2]).toBe(`wrote ${join(out, 'samples_1x28x28x1.npz')} and ${join(out, 'grid.png')} (labels 3) on cpu`);
    expect(lines).toHaveLength(3);
    const npz = parseNpz(new Uint8Array(await readFile(join(out, 'samples_1x28x28x1.npz'))));
    expect(npz.get('arr_0')!.shape).toEqual([1, 28, 28, 1]);

    const quiet = await adm(...flags, '--quiet');
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    const verbose = await adm(...flags, '--verbose');
    expect(verbose.code).toBe(0);
    expect(verbose.stderr.split('\n')[0]).toBe('backend: cpu');
    // TensorFlow.js's notice on its pure-JS backend in Node, kept for --verbose.
    expect(verbose.stderr).toContain('Hi, looks like you are running TensorFlow.js in Node.js');
  }, 120_000);
});
