import { type HostTensor, ShapeError, TensorFileError, toFloat32 } from '@adm/core';
import { decodePng, ImageFileError } from './png.js';

/** Images as the evaluator reads them: NHWC RGB, values in [0, 255]. */
export interface ImageBatch {
  /** [count * height * width * 3]; uint8, or float32 for float .npz arrays */
  pixels: Uint8Array | Float32Array;
  count: number;
  height: number;
  width: number;
  /** Where the images came from (messages). */
  source: string;
}

/** The images of `arr_0` (or any 4-D [N, H, W, 3] array) as an ImageBatch. */
export function imageBatchFromTensor(t: HostTensor, source: string, name = 'arr_0'): ImageBatch {
  if (t.shape.length !== 4 || t.shape[3] !== 3) {
    throw new TensorFileError(source, `expected images [count, height, width, 3] (NHWC RGB), got shape [${t.shape.join(', ')}]`, name);
  }
  const [count, height, width] = t.shape;
  const pixels = t.dtype === 'U8' ? (t.data as Uint8Array) : toFloat32(t);
  return { pixels, count, height, width, source };
}

/** Rows [start, end) of a batch as a new batch view. */
export function sliceImages(b: ImageBatch, start: number, end: number): ImageBatch {
  const per = b.height * b.width * 3;
  return { ...b, pixels: b.pixels.subarray(start * per, end * per), count: end - start };
}

/** One image (HWC uint8, clipped and rounded when float). */
export function imageAt(b: ImageBatch, i: number): Uint8Array {
  const per = b.height * b.width * 3;
  const v = b.pixels.subarray(i * per, (i + 1) * per);
  return v instanceof Uint8Array ? v : Uint8Array.from(v, (x) => Math.max(0, Math.min(255, Math.round(x))));
}

/** Decode every PNG of a folder (sorted by name) into one batch; all must share one size. */
export async function readImageFolder(dir: string): Promise<ImageBatch> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => /\.png$/i.test(n)).sort();
  } catch (e) {
    throw new ImageFileError(dir, `cannot list the folder (${(e as Error).message})`);
  }
  if (names.length === 0) throw new ImageFileError(dir, 'the folder holds no .png images');
  let batch: Uint8Array | undefined;
  let h = 0;
  let w = 0;
  for (let i = 0; i < names.length; i++) {
    const file = path.join(dir, names[i]);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(file));
    } catch (e) {
      throw new ImageFileError(file, `cannot read (${(e as Error).message})`);
    }
    const img = decodePng(bytes, file);
    if (!batch) {
      h = img.height;
      w = img.width;
      batch = new Uint8Array(names.length * h * w * 3);
    } else if (img.height !== h || img.width !== w) {
      throw new ShapeError(`${file}: image is ${img.width}x${img.height}, but ${names[0]} is ${w}x${h}; every image of a folder must have one size`);
    }
    batch.set(img.data, i * h * w * 3);
  }
  return { pixels: batch!, count: names.length, height: h, width: w, source: dir };
}
