import type { RgbImage } from './png.js';

/**
 * Lay out rows of equally sized RGB images (HWC uint8) into one image, `gap` pixels of
 * `background` between cells. Rows may have different lengths; the grid is as wide as the
 * longest.
 */
export function imageGrid(rows: Uint8Array[][], height: number, width: number, gap = 2, background = 255): RgbImage {
  const cols = Math.max(1, ...rows.map((r) => r.length));
  const W = cols * width + (cols + 1) * gap;
  const H = rows.length * height + (rows.length + 1) * gap;
  const data = new Uint8Array(W * H * 3).fill(background);
  rows.forEach((row, r) =>
    row.forEach((img, c) => {
      if (img.length !== height * width * 3) throw new RangeError(`imageGrid: cell (${r}, ${c}) has ${img.length} bytes, expected ${height}x${width}x3`);
      const y0 = gap + r * (height + gap);
      const x0 = gap + c * (width + gap);
      for (let y = 0; y < height; y++) data.set(img.subarray(y * width * 3, (y + 1) * width * 3), ((y0 + y) * W + x0) * 3);
    }),
  );
  return { width: W, height: H, data };
}
