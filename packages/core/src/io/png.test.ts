import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.js';
import { crc32 } from './zip.js';
import { encodePng } from './png.js';

/** Chunks of a PNG, each CRC checked with zip's CRC-32 (the same polynomial PNG uses). */
function chunks(png: Uint8Array): Array<{ type: string; data: Uint8Array }> {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Array<{ type: string; data: Uint8Array }> = [];
  for (let o = 8; o < png.length; ) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    expect(dv.getUint32(o + 8 + len)).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
    out.push({ type, data: png.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}

describe('encodePng', () => {
  it('writes signature, IHDR, zlib IDAT of filter-0 rows and IEND that node:zlib inflates back', () => {
    const [w, h] = [3, 2];
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(rgb, w, h, 3);
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset, 13);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), cs[0].data[8], cs[0].data[9], cs[0].data[10], cs[0].data[11], cs[0].data[12]]).toEqual([3, 2, 8, 2, 0, 0, 0]);
    const raw = inflateSync(cs[1].data);
    expect(raw.length).toBe(h * (1 + w * 3));
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w * 3 + 1)]).toBe(0);
      expect([...raw.subarray(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1))]).toEqual([...rgb.subarray(y * w * 3, (y + 1) * w * 3)]);
    }
    expect(cs[2].data.length).toBe(0);
  });

  it('uses color type 0 for gray and 6 for RGBA, and rejects bad sizes', () => {
    expect(chunks(encodePng(new Uint8Array(4), 2, 2, 1))[0].data[9]).toBe(0);
    expect(chunks(encodePng(new Uint8Array(16), 2, 2, 4))[0].data[9]).toBe(6);
    expect(() => encodePng(new Uint8Array(5), 2, 2, 1)).toThrow(ShapeError);
    expect(() => encodePng(new Uint8Array(4), 2, 2, 5)).toThrow(/5 channels/);
  });
});
