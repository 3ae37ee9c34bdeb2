import { describe, it, expect } from 'vitest';
import { fetchModelFolder, parseCatalog } from './model-catalog.js';

describe('model catalog', () => {
  it('accepts a catalog and reads optional fields', () => {
    const c = parseCatalog({ models: [{ id: 'a', title: 'A', denoiser: 'a/unet', classifier: 'a/clf', labels: ['x', 'y'], randomWeights: true }] });
    expect(c.models[0]).toMatchObject({ id: 'a', classifier: 'a/clf', labels: ['x', 'y'], randomWeights: true });
  });

  it('names the bad field', () => {
    expect(() => parseCatalog({ models: [] })).toThrow(/lists no model/);
    expect(() => parseCatalog({ models: [{ id: 'a', title: 'A', labels: [] }] })).toThrow(/models\[0\]\.denoiser/);
    expect(() => parseCatalog({ models: [{ id: 'a', title: 'A', denoiser: 'd', labels: [3] }] })).toThrow(/models\[0\]\.labels/);
  });

  it('fetches config.json and model.safetensors from a folder URL, naming a failing file', async () => {
    const files: Record<string, string> = { 'http://h/m/config.json': '{"image_size": 8}', 'http://h/m/model.safetensors': 'WEIGHTS' };
    const fakeFetch = (async (url: string) => (url in files ? new Response(files[url]) : new Response('nope', { status: 404, statusText: 'Not Found' }))) as typeof fetch;
    const f = await fetchModelFolder('http://h/m', fakeFetch);
    expect(f.config).toEqual({ image_size: 8 });
    expect(new TextDecoder().decode(f.weights)).toBe('WEIGHTS');
    await expect(fetchModelFolder('http://h/other/', fakeFetch)).rejects.toThrow(/http:\/\/h\/other\/(config\.json|model\.safetensors).*404/);
  });

  it('refuses a config.json that is not a JSON object of flags, or is over 1 MiB, naming it', async () => {
    const serve = (config: string) => (async (url: string) => new Response(url.endsWith('config.json') ? config : 'W')) as typeof fetch;
    await expect(fetchModelFolder('http://h/m/', serve('[1, 2]'))).rejects.toThrow('http://h/m/config.json: expected a JSON object of flags');
    await expect(fetchModelFolder('http://h/m/', serve('{"a": '))).rejects.toThrow(/^http:\/\/h\/m\/config\.json: not valid JSON/);
    await expect(fetchModelFolder('http://h/m/', serve(`{"pad": "${' '.repeat(1 << 20)}"}`))).rejects.toThrow('http://h/m/config.json: 1048587 characters; a model config is at most 1048576 bytes');
  });
});
