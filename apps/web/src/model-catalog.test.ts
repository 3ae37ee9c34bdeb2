import { describe, it, expect } from 'vitest';
import { parseCatalog } from './model-catalog.js';

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
});
