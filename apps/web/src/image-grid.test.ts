import { describe, it, expect } from 'vitest';
import { batchToRgbaGrid, gridColumns, toByte } from './image-grid.js';

describe('batchToRgbaGrid', () => {
  it('maps [-1, 1] to bytes as guided-diffusion does, clipping outside', () => {
    expect([toByte(-1), toByte(0), toByte(1), toByte(-3), toByte(2), toByte(0.5)]).toEqual([0, 127, 255, 0, 255, 191]);
  });

  it('lays 3 grey 2x2 images on a 2-column grid with 1 px of padding', () => {
    // image k has pixel values 10k + (y*2 + x), so every destination pixel names its source.
    const data = new Uint8Array(3 * 4).map((_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const g = batchToRgbaGrid({ data, shape: [3, 2, 2, 1] }, 1, 77);
    expect([g.width, g.height, g.columns, g.rows]).toEqual([5, 5, 2, 2]);
    const at = (x: number, y: number) => Array.from(g.rgba.subarray((y * 5 + x) * 4, (y * 5 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([0, 0, 0, 255]);
    expect(at(2, 0)).toEqual([77, 77, 77, 255]); // padding column
    expect(at(1, 1)).toEqual([3, 3, 3, 255]);
    expect(at(3, 0)).toEqual([10, 10, 10, 255]);
    expect(at(4, 1)).toEqual([13, 13, 13, 255]);
    expect(at(0, 3)).toEqual([20, 20, 20, 255]);
    expect(at(2, 2)).toEqual([77, 77, 77, 255]); // padding
    expect(at(4, 4)).toEqual([77, 77, 77, 255]); // empty 4th tile
  });

  it('keeps RGB channels apart for float images', () => {
    const g = batchToRgbaGrid({ data: new Float32Array([-1, 0, 1]), shape: [1, 1, 1, 3] });
    expect(Array.from(g.rgba)).toEqual([0, 127, 255, 255]);
  });

  it('rejects data that does not fill the shape, naming the shape', () => {
    expect(() => batchToRgbaGrid({ data: new Uint8Array(5), shape: [1, 2, 2, 1] })).toThrow(/\[1, 2, 2, 1\]/);
    expect(() => batchToRgbaGrid({ data: new Uint8Array(8), shape: [1, 2, 2, 2] })).toThrow(/1 or 3 channels/);
  });

  it('chooses near-square grids', () => {
    expect([1, 2, 4, 5, 9, 10, 16].map(gridColumns)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});
