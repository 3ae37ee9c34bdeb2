import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
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

const STEPS = 3;

describe.skipIf(Boolean(skipReason))(`web page in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work = '';
  let server: Awaited<ReturnType<typeof serveStatic>> | null = null;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adm-web-e2e-'));
    const outDir = join(work, 'dist');
    await promisify(execFile)('npm', ['run', 'build', '--', '--outDir', outDir, '--logLevel', 'warn'], { cwd: appRoot, maxBuffer: 16 << 20 });
    server = await serveStatic(outDir);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`samples ${STEPS} steps, draws every step and reaches the end`, async () => {
    const { chromium } = await import('playwright-core');
    const profile = join(work, 'profile');
    await mkdir(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      viewport: { width: 1100, height: 720 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(server!.url);
      await page.waitForFunction(() => ['idle', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 30_000 });
      expect(await page.textContent('#status'), errors.join('\n')).not.toMatch(/^Error/);
      const backend = await page.evaluate(() => document.body.dataset.backend);
      console.info(`[web e2e] backend: ${await page.textContent('#backend-badge')}`);
      expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(backend);

      await page.fill('#steps', String(STEPS));
      await page.fill('#batch-size', '2');
      const pixels = () => page.evaluate(() => {
        const c = document.getElementById('xt-canvas') as HTMLCanvasElement;
        return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
      });
      const before = await pixels();
      // Record each step's x_t as it is drawn, to check the page redraws while it denoises.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as any).__xtFrames = seen;
        new MutationObserver(() => seen.push((document.getElementById('xt-canvas') as HTMLCanvasElement).toDataURL())).observe(
          document.getElementById('progress')!,
          { attributes: true, attributeFilter: ['value'] },
        );
      });
      await page.click('#sample');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 45_000 });
      const status = await page.textContent('#status');
      console.info(`[web e2e] ${status}`);
      expect(await page.evaluate(() => document.body.dataset.state), `${status}\n${errors.join('\n')}`).toBe('done');

      const progress = await page.evaluate(() => {
        const p = document.getElementById('progress') as HTMLProgressElement;
        return { value: p.value, max: p.max };
      });
      expect(progress).toEqual({ value: STEPS, max: STEPS });
      const after = await pixels();
      expect(after.length).toBeGreaterThan(0);
      expect(after).not.toEqual(before);
      const frames: string[] = await page.evaluate(() => (window as any).__xtFrames);
      expect(new Set(frames).size).toBeGreaterThan(1);
      expect(await page.isEnabled('#download')).toBe(true);

      const shot = join(process.env.ADM_WEB_SCREENSHOT_DIR ?? tmpdir(), 'adm-web-e2e.png');
      await page.screenshot({ path: shot });
      console.info(`[web e2e] screenshot: ${shot}`);
    } finally {
      await context.close();
    }
  }, 90_000);
});
