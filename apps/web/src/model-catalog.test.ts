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
});
