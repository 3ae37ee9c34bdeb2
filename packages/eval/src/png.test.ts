import { describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { decodePng, encodePng, ImageFileError } from './png.js';
import { imageGrid } from './image-grid.js';

/** A PNG assembled by hand (CRCs are not checked by the decoder). */
function handPng(width: number, height: number, colour: number, rows: number[][], palette?: number[]): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, colour, 0, 0, 0], 8);
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr)];
  if (palette) parts.push(chunk('PLTE', Uint8Array.from(palette)));
  parts.push(chunk('IDAT', zlibSync(Uint8Array.from(rows.flat()))), chunk('IEND', new Uint8Array(0)));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('png', () => {
  it('round-trips RGB images', () => {
    const data = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const back = decodePng(encodePng({ width: 5, height: 3, data }));
    expect([back.width, back.height]).toEqual([5, 3]);
    expect([...back.data]).toEqual([...data]);
  });

  it('undoes the sub, up, average and Paeth filters', () => {
    // 2x4 grey image with pixels [10, 20], [30, 50], [40, 45], [100, 0]; each row stores
    // the filter type, then residuals against the predictor of that filter.
    const rows = [
      [1, 10, 10], // sub: left neighbour -> 10, 10 + 10
      [2, 20, 30], // up: 10 + 20, 20 + 30
      [3, 25, 0], // average of left and up: 25 + (0 + 30) / 2 = 40; 0 + (40 + 50) / 2 = 45
      [4, 60, 156], // Paeth: predicts up (40) -> 100; then left (100) -> (100 + 156) & 255 = 0
    ];
    const img = decodePng(handPng(2, 4, 0, rows));
    const grey = Array.from({ length: 8 }, (_, i) => img.data[i * 3]);
    expect(grey).toEqual([10, 20, 30, 50, 40, 45, 100, 0]);
  });

  it('maps palette and grey+alpha to RGB', () => {
    const pal = decodePng(handPng(2, 1, 3, [[0, 1, 0]], [1, 2, 3, 4, 5, 6]));
    expect([...pal.data]).toEqual([4, 5, 6, 1, 2, 3]);
    const ga = decodePng(handPng(1, 1, 4, [[0, 77, 255]]));
    expect([...ga.data]).toEqual([77, 77, 77]);
  });

  it('rejects what it cannot read', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(ImageFileError);
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(/x\.png: not a PNG/);
  });

  it('lays out grids with gaps', () => {
    const red = new Uint8Array(2 * 2 * 3).fill(0);
    for (let i = 0; i < 4; i++) red[i * 3] = 255;
    const g = imageGrid([[red], [red, red]], 2, 2, 1, 9);
    expect([g.width, g.height]).toEqual([2 * 2 + 3, 2 * 2 + 3]);
    expect([...g.data.subarray(0, 3)]).toEqual([9, 9, 9]); // corner gap
    expect([...g.data.subarray((1 * g.width + 1) * 3, (1 * g.width + 1) * 3 + 3)]).toEqual([255, 0, 0]);
    expect([...g.data.subarray((1 * g.width + 4) * 3, (1 * g.width + 4) * 3 + 3)]).toEqual([9, 9, 9]); // empty cell
  });
});
