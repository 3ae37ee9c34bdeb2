import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors.js';

/** uint8 images, NHWC, row-major. */
export interface ImageBatch {
  data: Uint8Array;
  shape: [number, number, number, number];
}

/**
 * Samples in [-1, 1] to uint8 as guided-diffusion's sample scripts do:
 * ((x + 1) * 127.5).clamp(0, 255).to(uint8) (truncation toward zero).
 */
export function toUint8Images(x: tf.Tensor4D): ImageBatch {
  const values = tf.tidy(() => tf.cast(tf.clipByValue(tf.mul(tf.add(x, 1), 127.5), 0, 255), 'int32')).dataSync();
  const data = Uint8Array.from(values as Int32Array);
  return { data, shape: [...x.shape] as [number, number, number, number] };
}

/**
 * toUint8Images reading the values asynchronously: on WebGPU a synchronous read goes
 * through a canvas and fails in headless/software adapters (and stalls real GPUs).
 */
export async function toUint8ImagesAsync(x: tf.Tensor4D): Promise<ImageBatch> {
  const t = tf.tidy(() => tf.cast(tf.clipByValue(tf.mul(tf.add(x, 1), 127.5), 0, 255), 'int32'));
  try {
    return { data: Uint8Array.from((await t.data()) as Int32Array), shape: [...x.shape] as [number, number, number, number] };
  } finally {
    t.dispose();
  }
}

/** uint8 images back to [-1, 1] floats (super_res_sample.py: x / 127.5 - 1). */
export function fromUint8Images(images: ImageBatch): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.div(tf.tensor4d(Float32Array.from(images.data), images.shape), 127.5), 1)) as tf.Tensor4D;
}

/** Concatenate image batches of the same H, W, C along N. */
export function concatImages(batches: readonly ImageBatch[]): ImageBatch {
  if (!batches.length) throw new ShapeError('concatImages: no batches');
  const [, h, w, c] = batches[0].shape;
  let n = 0;
  for (const b of batches) {
    if (b.shape[1] !== h || b.shape[2] !== w || b.shape[3] !== c) throw new ShapeError(`concatImages: [${b.shape.join(', ')}] does not match [N, ${h}, ${w}, ${c}]`);
    n += b.shape[0];
  }
  const data = new Uint8Array(n * h * w * c);
  let o = 0;
  for (const b of batches) {
    data.set(b.data, o);
    o += b.data.length;
  }
  return { data, shape: [n, h, w, c] };
}

/** Lay images out in a grid (rows of `columns`, default ~sqrt(N)) with `padding` pixels of `background`. */
export function imageGrid(images: ImageBatch, columns?: number, padding = 2, background = 0): { data: Uint8Array; width: number; height: number; channels: number } {
  const [n, h, w, c] = images.shape;
  const cols = Math.max(1, Math.min(n, columns ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.max(1, Math.ceil(n / cols));
  const width = cols * w + (cols + 1) * padding;
  const height = rows * h + (rows + 1) * padding;
  const data = new Uint8Array(width * height * c).fill(background);
  for (let k = 0; k < n; k++) {
    const x0 = padding + (k % cols) * (w + padding);
    const y0 = padding + Math.floor(k / cols) * (h + padding);
    for (let y = 0; y < h; y++) {
      const src = ((k * h + y) * w) * c;
      data.set(images.data.subarray(src, src + w * c), ((y0 + y) * width + x0) * c);
    }
  }
  return { data, width, height, channels: c };
}
