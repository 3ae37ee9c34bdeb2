import { ShapeError } from '@adm/core';

/** A batch of images in NHWC order: uint8 [0, 255] or float in the model's [-1, 1] range. */
export interface ImageBatch {
  data: Uint8Array | Float32Array;
  /** [N, H, W, C], C is 1 (grey) or 3 (RGB). */
  shape: readonly [number, number, number, number];
}

export interface RgbaGrid {
  width: number;
  height: number;
  columns: number;
  rows: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

/** Columns of a near-square grid, as torchvision's make_grid is usually called. */
export function gridColumns(n: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(n)));
}

/** [-1, 1] -> [0, 255] clipped then truncated, as guided-diffusion's sample script does. */
export function toByte(v: number): number {
  const b = (v + 1) * 127.5;
  return b <= 0 ? 0 : b >= 255 ? 255 : Math.trunc(b);
}

/**
 * Lay a batch out as one RGBA image (row-major grid, `pad` pixels of grey `padValue` between
 * tiles, visible against both black and white images), ready for ImageData. Grey images are
 * replicated to RGB; alpha is opaque everywhere.
 */
export function batchToRgbaGrid(batch: ImageBatch, pad = 2, padValue = 96): RgbaGrid {
  const [n, h, w, c] = batch.shape;
  if (c !== 1 && c !== 3) throw new ShapeError(`image batch: expected 1 or 3 channels (NHWC), got shape [${batch.shape.join(', ')}]`);
  if (batch.data.length !== n * h * w * c) {
    throw new ShapeError(`image batch: ${batch.data.length} values do not fill shape [${batch.shape.join(', ')}]`);
  }
  const columns = gridColumns(n);
  const rows = Math.max(1, Math.ceil(n / columns));
  const width = columns * w + (columns - 1) * pad;
  const height = rows * h + (rows - 1) * pad;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = rgba[i + 1] = rgba[i + 2] = padValue;
    rgba[i + 3] = 255;
  }
  const isByte = batch.data instanceof Uint8Array;
  const src = batch.data;
  for (let k = 0; k < n; k++) {
    const ox = (k % columns) * (w + pad);
    const oy = Math.floor(k / columns) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = ((k * h + y) * w + x) * c;
        const d = ((oy + y) * width + ox + x) * 4;
        for (let ch = 0; ch < 3; ch++) {
          const v = src[s + (c === 1 ? 0 : ch)]!;
          rgba[d + ch] = isByte ? v : toByte(v);
        }
      }
    }
  }
  return { width, height, columns, rows, rgba };
}
