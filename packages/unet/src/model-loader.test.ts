import { AdmError, ConfigError, TensorFileError, useBackend } from '@adm/core';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from './create-model.js';
import { loadModel } from './model-loader.js';
import { saveModelFolder } from './model-folder.js';
import { stateDict } from './state-dict.js';

const FLAGS = {
  image_size: 8,
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: '1,2',
  attention_resolutions: '4',
  num_head_channels: 16,
  learn_sigma: true,
  class_cond: true,
  num_classes: 3,
  noise_schedule: 'cosine',
};

let dir: string;
let folder: string;
let reference: Map<string, Float32Array>;
let server: Server;
let base: string;
const hits: string[] = [];

function weightsOf(model: Parameters<typeof stateDict>[0]): Map<string, Float32Array> {
  return new Map([...stateDict(model)].map(([k, t]) => [k, t.data as Float32Array]));
}

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'adm-loader-'));
  folder = join(dir, 'tiny');
  const model = createModel(FLAGS, { seed: 3 });
  await saveModelFolder(folder, model, FLAGS);
  reference = weightsOf(model);
  model.dispose();
  // The folder served over HTTP, counting requests; /missing/ answers 404.
  server = createServer(async (req, res) => {
    hits.push(req.url ?? '');
    const name = (req.url ?? '').replace(/^\/tiny\//, '');
    if (!req.url?.startsWith('/tiny/') || !['config.json', 'model.safetensors'].includes(name)) return void res.writeHead(404).end();
    res.writeHead(200).end(await readFile(join(folder, name)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  if (server) await new Promise<void>((ok) => server.close(() => ok()));
  await rm(dir, { recursive: true, force: true });
});

async function expectSameWeights(source: Parameters<typeof loadModel>[0], options: Parameters<typeof loadModel>[1] = {}) {
  const { model, modelType, flags } = await loadModel(source, options);
  expect(modelType).toBe('unet');
  expect(flags.num_classes).toBe(3);
  const got = weightsOf(model);
  expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
  for (const [k, v] of reference) expect(got.get(k)).toEqual(v);
  model.dispose();
}

describe('loadModel', () => {
  it('reads a folder path, a file: URL and {config, weights} file URLs alike', async () => {
    await expectSameWeights(folder);
    await expectSameWeights(pathToFileURL(`${folder}/`));
    await expectSameWeights({ config: pathToFileURL(join(folder, 'config.json')), weights: pathToFileURL(join(folder, 'model.safetensors')) });
  });

  it('downloads an http folder once, then serves it from the cache keyed by URL and content hash', async () => {
    const cacheDir = join(dir, 'cache');
    hits.length = 0;
    await expectSameWeights(`${base}/tiny/`, { cacheDir });
    expect(hits.sort()).toEqual(['/tiny/config.json', '/tiny/model.safetensors']);
    await expectSameWeights(`${base}/tiny`, { cacheDir });
    expect(hits).toHaveLength(2);
    // A damaged blob no longer matches its hash: it is downloaded again, not loaded.
    const blobs = await readdir(join(cacheDir, 'blobs'));
    expect(blobs).toHaveLength(2);
    for (const b of blobs) expect(b).toMatch(/^[0-9a-f]{64}$/);
    const sizes = await Promise.all(blobs.map(async (b) => (await readFile(join(cacheDir, 'blobs', b))).length));
    const weightsBlob = blobs[sizes.indexOf(Math.max(...sizes))];
    await writeFile(join(cacheDir, 'blobs', weightsBlob), 'garbage');
    await expectSameWeights(`${base}/tiny/`, { cacheDir });
    expect(hits).toHaveLength(3);
    // refresh: true downloads even when cached.
    await expectSameWeights(`${base}/tiny/`, { cacheDir, refresh: true });
    expect(hits).toHaveLength(5);
  });

  it('names the URL or file when a model is missing or of the wrong kind', async () => {
    await expect(loadModel(`${base}/missing/`, { cacheDir: false })).rejects.toThrow(new RegExp(`${base}/missing/config.json.*HTTP 404`));
    await expect(loadModel(join(dir, 'nowhere'))).rejects.toBeInstanceOf(TensorFileError);
    await expect(loadModel(join(dir, 'nowhere'))).rejects.toThrow(`${join(dir, 'nowhere', 'config.json')}: not a model folder: config.json not found`);
    const err = await loadModel(folder, { expect: ['classifier'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`${join(folder, 'config.json')}: model_type: holds a unet model, expected classifier`);
    await expect(loadModel(42 as never)).rejects.toBeInstanceOf(AdmError);
  });
});
