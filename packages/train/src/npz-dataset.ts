import { ConfigError, type HostTensor, parseNpz, readFileBytes, TensorFileError, toFloat32, toInt32 } from '@adm/core';
import { type ImageBatch, type ImageDataset, uint8ToUnit } from './image-dataset.js';

/**
 * Images from an .npz: `arr_0` [N, H, W, C] (uint8 0..255, or float in [-1, 1]) and, when
 * present, `arr_1` [N] integer labels -- the layout guided-diffusion's sample scripts and
 * reference batches use.
 */
export class NpzDataset implements ImageDataset {
  readonly length: number;
  readonly imageSize: number;
  readonly channels: number;
  readonly numClasses?: number;
  private readonly pixels: Float32Array;
  private readonly labels?: Int32Array;

  constructor(
    readonly name: string,
    images: HostTensor,
    labels?: HostTensor,
    numClasses?: number,
  ) {
    if (images.shape.length !== 4 || images.shape[1] !== images.shape[2]) {
      throw new TensorFileError(name, `arr_0 must be square NHWC images [N, H, W, C], got [${images.shape.join(', ')}]`, 'arr_0');
    }
    [this.length, this.imageSize, , this.channels] = images.shape;
    if (images.dtype === 'U8') {
      const src = images.data as Uint8Array;
      this.pixels = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) this.pixels[i] = uint8ToUnit(src[i]);
    } else {
      this.pixels = toFloat32(images);
    }
    if (labels) {
      if (labels.shape.length !== 1 || labels.shape[0] !== this.length) throw new TensorFileError(name, `arr_1 must hold ${this.length} labels, got [${labels.shape.join(', ')}]`, 'arr_1');
      this.labels = toInt32(labels);
      let max = -1;
      for (const l of this.labels) {
        if (l < 0) throw new TensorFileError(name, `labels must be >= 0, found ${l}`, 'arr_1');
        if (l > max) max = l;
      }
      this.numClasses = numClasses ?? max + 1;
    }
  }

  static async load(path: string, opts: { numClasses?: number } = {}): Promise<NpzDataset> {
    const arrays = parseNpz(await readFileBytes(path), path);
    const images = arrays.get('arr_0');
    if (!images) throw new TensorFileError(path, `no arr_0 (images) in the archive (found: ${[...arrays.keys()].join(', ')})`);
    return new NpzDataset(path, images, arrays.get('arr_1'), opts.numClasses);
  }

  batch(indices: ArrayLike<number>): ImageBatch {
    const per = this.imageSize * this.imageSize * this.channels;
    const x = new Float32Array(indices.length * per);
    const y = this.labels ? new Int32Array(indices.length) : undefined;
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      if (!(i >= 0 && i < this.length)) throw new ConfigError('dataset index', `${i} outside [0, ${this.length})`);
      x.set(this.pixels.subarray(i * per, (i + 1) * per), b * per);
      if (y) y[b] = this.labels![i];
    }
    return { x, y, shape: [indices.length, this.imageSize, this.imageSize, this.channels] };
  }
}
