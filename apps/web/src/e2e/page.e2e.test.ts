import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { serveStatic } from './static-server.js';

// End to end: build the page, serve it cross-origin isolated, open it in Debian's headless
// Chromium, sample a few steps of the tiny demo model, check the canvases and the progress.
const CHROMIUM = process.env.ADM_CHROMIUM ?? '/usr/bin/chromium';
const appRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const hasPlaywright = await import('playwright-core').then(() => true, () => false);
const skipReason = !existsSync(CHROMIUM)
  ? `chromium not found at ${CHROMIUM} (install: apt-get install -y chromium)`
  : !hasPlaywright
    ? 'playwright-core is not installed'
    : '';
if (skipReason) console.warn(`[web e2e] skipped: ${skipReason}`);

const STEPS = 2;
// Software WebGPU (SwiftShader) compiles every shader on one CPU core: on a busy machine the
// first step alone can take a minute. Past this budget the test reloads the page on WASM.
const WEBGPU_BUDGET_MS = Number(process.env.ADM_WEB_E2E_WEBGPU_MS ?? 20_000);

type Page = import('playwright-core').Page;

/** Catalog entries whose denoiser folder is malformed, and what the page must say about each. */
const BROKEN: { id: string; title: string; message: RegExp }[] = [
  { id: 'broken-weights', title: 'Broken: truncated weights', message: /broken-weights\/unet\/model\.safetensors: .*(truncated|header)/ },
  { id: 'wrong-shapes', title: 'Broken: weights of another width', message: /wrong-shapes\/unet\/model\.safetensors \(tensor "time_embed\.0\.weight"\): state_dict does not fit the model \(mis-shaped parameters: time_embed\.0\.weight: file has \[128, 32\], model expects \[256, 64\]/ },
  { id: 'classifier-as-denoiser', title: 'Broken: a classifier as denoiser', message: /classifier-as-denoiser\/unet\/config\.json: model_type: holds a classifier model, expected unet/ },
  { id: 'absurd-config', title: 'Broken: absurd width', message: /absurd-config\/unet\/config\.json: num_channels: expected an integer in \[1, 8192\], got 32000000/ },
];

/** Malformed copies of the micro demo model, listed after the good models in the built catalog. */
async function addBrokenModels(models: string): Promise<void> {
  const micro = join(models, 'demo-micro');
  const config = JSON.parse(await readFile(join(micro, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  const weights = await readFile(join(micro, 'unet', 'model.safetensors'));
  const folder = async (id: string, configJson: unknown, bytes: Uint8Array) => {
    await mkdir(join(models, id, 'unet'), { recursive: true });
    await writeFile(join(models, id, 'unet', 'config.json'), JSON.stringify(configJson));
    await writeFile(join(models, id, 'unet', 'model.safetensors'), bytes);
  };
  await folder('broken-weights', config, weights.subarray(0, 200));
  await folder('wrong-shapes', { ...config, num_channels: 64 }, weights);
  await cp(join(micro, 'classifier'), join(models, 'classifier-as-denoiser', 'unet'), { recursive: true });
  await folder('absurd-config', { ...config, num_channels: 32_000_000 }, weights);
  const index = JSON.parse(await readFile(join(models, 'index.json'), 'utf8')) as { models: unknown[] };
  for (const b of BROKEN) index.models.push({ id: b.id, title: b.title, denoiser: `${b.id}/unet/`, labels: ['zero', 'one'], randomWeights: true });
  await writeFile(join(models, 'index.json'), JSON.stringify(index));
}

const state = (page: Page) => page.evaluate(() => document.body.dataset.state ?? '');
const pixels = (page: Page) =>
  page.evaluate(() => {
    const c = document.getElementById('xt-canvas') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });

async function openPage(page: Page, url: string, backend: string): Promise<string> {
  await page.goto(url);
  await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
  expect(await page.textContent('#status')).not.toMatch(/^Error/);
  await page.selectOption('#model', 'demo-micro');
  await page.selectOption('#backend', backend);
  await page.fill('#steps', String(STEPS));
  await page.fill('#batch-size', '1');
  // Record each step's x_t as it is drawn (the progress bar moves right after the draw).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as any).__xtFrames = seen;
    new MutationObserver(() => seen.push((document.getElementById('xt-canvas') as HTMLCanvasElement).toDataURL())).observe(document.getElementById('progress')!, {
      attributes: true,
      attributeFilter: ['value'],
    });
  });
  return backend;
}

/** Click Sample and wait for the end; false when `budgetMs` passed first. */
async function sample(page: Page, budgetMs: number): Promise<boolean> {
  await page.click('#sample');
  try {
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.body.dataset.state ?? ''), null, { timeout: budgetMs });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(Boolean(skipReason))(`web page in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work = '';
  let server: Awaited<ReturnType<typeof serveStatic>> | null = null;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adm-web-e2e-'));
    const outDir = join(work, 'dist');
    // The page's own build steps, into a temp folder (public/ and dist/ of the app untouched).
    const run = promisify(execFile);
    const env = { ...process.env, ADM_WEB_PUBLIC_DIR: join(work, 'public') };
    await run('npx', ['tsx', '--tsconfig', '../../tsconfig.base.json', 'scripts/make-demo-models.ts', '--out', join(work, 'public/models')], { cwd: appRoot, env, maxBuffer: 16 << 20 });
    await run('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: appRoot, env, maxBuffer: 16 << 20 });
    await addBrokenModels(join(outDir, 'models'));
    server = await serveStatic(outDir);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // A fresh browser (own profile) per attempt: a renderer busy compiling WebGPU shaders does
  // not navigate away promptly. Page errors and console errors are collected into `errors`.
  let profiles = 0;
  const launch = async (errors: string[] = []) => {
    const { chromium } = await import('playwright-core');
    const profile = join(work, `profile-${profiles++}`);
    await mkdir(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      viewport: { width: 1100, height: 760 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    return { context, page };
  };

  it(`samples ${STEPS} guided steps of the micro model, draws every step, reaches the end, cancels`, async () => {
    const errors: string[] = [];
    let { context, page } = await launch(errors);
    try {
      // WebGPU first (the page's own preference), WASM when WebGPU is absent or too slow here.
      await openPage(page, server!.url, 'auto');
      const before = await pixels(page);
      let finished = await sample(page, WEBGPU_BUDGET_MS);
      let backend = (await page.evaluate(() => document.body.dataset.backend)) ?? '';
      if (!finished) {
        console.warn(`[web e2e] ${await page.textContent('#backend-badge')}: ${STEPS} steps did not finish in ${WEBGPU_BUDGET_MS / 1000} s (${await page.textContent('#status')}); retrying on wasm`);
        await context.close();
        ({ context, page } = await launch(errors));
        await openPage(page, server!.url, 'wasm');
        finished = await sample(page, 30_000);
        backend = (await page.evaluate(() => document.body.dataset.backend)) ?? '';
      }
      const status = await page.textContent('#status');
      console.info(`[web e2e] ran on ${backend} (${await page.textContent('#backend-badge')}): ${status}`);
      expect(finished, `no result: ${status}\n${errors.join('\n')}`).toBe(true);
      expect(await state(page), `${status}\n${errors.join('\n')}`).toBe('done');
      expect(['webgpu', 'webgl', 'wasm-mt', 'wasm']).toContain(backend);

      const progress = await page.evaluate(() => {
        const p = document.getElementById('progress') as HTMLProgressElement;
        return { value: p.value, max: p.max };
      });
      expect(progress).toEqual({ value: STEPS, max: STEPS });
      const after = await pixels(page);
      expect(after.length).toBe(28 * 28 * 4);
      expect(after).not.toEqual(before);
      const frames: string[] = await page.evaluate(() => (window as any).__xtFrames);
      expect(frames.length).toBeGreaterThanOrEqual(STEPS);
      expect(new Set(frames).size).toBeGreaterThan(1);
      expect(await page.isEnabled('#download')).toBe(true);
      const download = page.waitForEvent('download');
      await page.click('#download');
      expect((await download).suggestedFilename()).toMatch(/^adm-demo-micro-class0-ddpm2-.*\.png$/);

      const shot = join(process.env.ADM_WEB_SCREENSHOT_DIR ?? tmpdir(), 'adm-web-e2e.png');
      await page.screenshot({ path: shot });
      console.info(`[web e2e] screenshot: ${shot}`);

      // Cancel: a long run stopped after its first step ends "cancelled" short of the end.
      await page.fill('#steps', '200');
      await page.click('#sample');
      await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, null, { timeout: 30_000 });
      await page.click('#cancel');
      await page.waitForFunction(() => document.body.dataset.state === 'cancelled', null, { timeout: 30_000 });
      expect(await page.evaluate(() => (document.getElementById('progress') as HTMLProgressElement).value)).toBeLessThan(200);
      expect(await page.textContent('#status')).toMatch(/^Cancelled at step \d+\/200/);
    } finally {
      await context.close();
    }
  }, 110_000);

  it(`runs tfjs's threaded wasm (wasm-mt) with one thread per logical core, matching single-threaded wasm`, async () => {
    const errors: string[] = [];
    const { context, page } = await launch(errors);
    try {
      await openPage(page, server!.url, 'wasm-mt');
      const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer, cores: navigator.hardwareConcurrency }));
      expect(env.isolated).toBe(true);
      expect(env.sab).toBe('function');
      // The page asks XNNPACK for every logical core, at most 8 (tfjs pre-creates 8 workers).
      const threads = Math.min(8, env.cores);
      expect(await sample(page, 60_000), `${await page.textContent('#status')}\n${errors.join('\n')}`).toBe(true);
      const status = await page.textContent('#status');
      const badge = await page.textContent('#backend-badge');
      console.info(`[web e2e] hardwareConcurrency ${env.cores}: ${badge}; ${status}`);
      expect(await state(page), status ?? '').toBe('done');
      expect(await page.evaluate(() => document.body.dataset.backend)).toBe('wasm-mt');
      expect(badge).toBe(`backend: wasm-mt (${threads} thread${threads === 1 ? '' : 's'})`);
      if (env.cores >= 2) expect(threads).toBeGreaterThanOrEqual(2);
      const threaded = await pixels(page);

      // The same run (same seed) on single-threaded wasm: XNNPACK splits work by output
      // tiles, so the 8-bit images agree up to rounding.
      await page.selectOption('#backend', 'wasm');
      expect(await sample(page, 60_000)).toBe(true);
      expect(await page.evaluate(() => document.body.dataset.backend)).toBe('wasm');
      expect(await state(page)).toBe('done');
      const single = await pixels(page);
      expect(threaded.length).toBe(single.length);
      const maxDiff = threaded.reduce((m, v, i) => Math.max(m, Math.abs(v - single[i]!)), 0);
      console.info(`[web e2e] wasm-mt vs wasm: max pixel difference ${maxDiff}/255`);
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(new Set(threaded).size).toBeGreaterThan(2);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('refuses malformed models with a message naming the file and problem, then samples the good one', async () => {
    const { context, page } = await launch();
    try {
      await page.goto(server!.url);
      await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
      await page.selectOption('#backend', 'wasm');
      await page.fill('#steps', String(STEPS));
      await page.fill('#batch-size', '1');
      for (const b of BROKEN) {
        await page.selectOption('#model', b.id);
        await page.click('#sample');
        await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
        const status = (await page.textContent('#status')) ?? '';
        expect(await state(page), status).toBe('error');
        expect(status.startsWith(`Error: Cannot load the model "${b.title}": `), status).toBe(true);
        expect(status).toMatch(b.message);
        expect(await page.evaluate(() => document.getElementById('status')!.classList.contains('error'))).toBe(true);
        // Still usable: the controls are enabled for the next choice.
        expect(await page.isEnabled('#model')).toBe(true);
        expect(await page.isEnabled('#sample')).toBe(true);
      }
      await page.selectOption('#model', 'demo-micro');
      expect(await sample(page, 60_000), (await page.textContent('#status')) ?? '').toBe(true);
      expect(await state(page), (await page.textContent('#status')) ?? '').toBe('done');
      expect(await page.evaluate(() => (document.getElementById('progress') as HTMLProgressElement).value)).toBe(STEPS);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('wasm-mt declines, saying why, when the page is not cross-origin isolated', async () => {
    const { context, page } = await launch();
    try {
      // The same files without COOP/COEP: no SharedArrayBuffer, so no threads.
      await page.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        delete headers['cross-origin-opener-policy'];
        delete headers['cross-origin-embedder-policy'];
        await route.fulfill({ response, headers });
      });
      await page.goto(server!.url);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
      await page.selectOption('#model', 'demo-micro');
      await page.selectOption('#backend', 'wasm-mt');
      await page.click('#sample');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
      expect(await page.textContent('#status')).toMatch(/wasm-mt: the page is not cross-origin isolated/);
    } finally {
      await context.close();
    }
  }, 60_000);
});
