import * as tf from '@tensorflow/tfjs';
import { type HostTensor, ShapeError, TensorFileError } from '@adm/core';
import { disposeFidInceptionWeights, type FidInceptionWeights, foldFidInceptionWeights } from './fid-inception-weights.js';
import { type InceptionPreprocessing, preprocessImages } from './inception-preprocessing.js';

/** Channels of mixed_6/conv kept for sFID (the evaluator's spatial[..., :7]). */
export const SPATIAL_CHANNELS = 7;

export interface InceptionOutputs {
  /** [B, 2048] pool_3: FID, precision/recall, nearest neighbours */
  pool3: tf.Tensor2D;
  /** [B, 1008] softmax/logits with the bias */
  logits: tf.Tensor2D;
  /** [B, 1008] pool3 @ W without the bias: what the evaluator's Inception Score uses */
  logitsNoBias: tf.Tensor2D;
  /** [B, 17, 17, 7] mixed_6/conv[..., :7] (NHWC; flattened H, W, C for sFID) */
  spatial: tf.Tensor4D;
}

type Pad = 'valid' | 'same';

/**
 * The FID Inception-v3: the TF 2015-12-05 graph's network as pytorch-fid ports it
 * (FIDInceptionA/C/E_1/E_2 blocks, 1008 classes, no aux head), NHWC on TensorFlow.js.
 * Every stride-1 padded conv/pool of that network has odd kernels with symmetric padding,
 * which is TF 'same'; every stride-2 one is 'valid'. Average pools exclude the padding
 * from the divisor (count_include_pad=False), as tfjs' 'same' average pool does.
 */
export class FidInceptionV3 {
  private constructor(private readonly w: FidInceptionWeights) {}

  /** From state-dict tensors (pytorch-fid names). */
  static fromStateDict(tensors: Map<string, HostTensor>, file = '<weights>'): FidInceptionV3 {
    return new FidInceptionV3(foldFidInceptionWeights(tensors, file));
  }

  /**
   * From a file the user supplies: pytorch-fid's pt_inception-2015-12-05-*.pth (read by
   * core's restricted .pt reader, never unpickling code) or a .safetensors with the same names.
   */
  static async fromFile(path: string): Promise<FidInceptionV3> {
    return FidInceptionV3.fromStateDict(await readWeightFile(path), path);
  }

  dispose(): void {
    disposeFidInceptionWeights(this.w);
  }

  /** Full forward from [B, H, W, 3] pixels in [0, 255]. */
  run(pixels: tf.Tensor4D, preprocessing: InceptionPreprocessing): InceptionOutputs {
    if (pixels.rank !== 4 || pixels.shape[3] !== 3) throw new ShapeError(`FID Inception expects [batch, height, width, 3] RGB images, got [${pixels.shape.join(', ')}]`);
    const x = preprocessImages(pixels, preprocessing);
    try {
      return this.forward(x);
    } finally {
      x.dispose();
    }
  }

  /** Forward from the preprocessed [B, 299, 299, 3] input in [-1, 1]. */
  forward(input: tf.Tensor4D): InceptionOutputs {
    return tf.tidy(() => {
      let x = this.conv('Conv2d_1a_3x3', input, 2, 'valid');
      x = this.conv('Conv2d_2a_3x3', x, 1, 'valid');
      x = this.conv('Conv2d_2b_3x3', x, 1, 'same');
      x = tf.maxPool(x, 3, 2, 'valid');
      x = this.conv('Conv2d_3b_1x1', x, 1, 'valid');
      x = this.conv('Conv2d_4a_3x3', x, 1, 'valid');
      x = tf.maxPool(x, 3, 2, 'valid');
      x = this.blockA('Mixed_5b', x);
      x = this.blockA('Mixed_5c', x);
      x = this.blockA('Mixed_5d', x);
      x = this.blockB('Mixed_6a', x);
      x = this.blockC('Mixed_6b', x);
      x = this.blockC('Mixed_6c', x);
      const mixed6d = this.blockC('Mixed_6d', x, true);
      const spatial = mixed6d.spatial!;
      x = this.blockC('Mixed_6e', mixed6d.out);
      x = this.blockD('Mixed_7a', x);
      x = this.blockE('Mixed_7b', x, 'avg');
      x = this.blockE('Mixed_7c', x, 'max');
      const pool3 = tf.mean(x, [1, 2]) as tf.Tensor2D;
      const logitsNoBias = tf.matMul(pool3, this.w.fcWeight) as tf.Tensor2D;
      const logits = tf.add(logitsNoBias, this.w.fcBias) as tf.Tensor2D;
      return { pool3, logits, logitsNoBias, spatial };
    });
  }

  private conv(name: string, x: tf.Tensor4D, stride: number, pad: Pad): tf.Tensor4D {
    const c = this.w.convs.get(name)!;
    return tf.fused.conv2d({ x, filter: c.filter, strides: stride, pad, bias: c.bias, activation: 'relu' });
  }

  private blockA(n: string, x: tf.Tensor4D): tf.Tensor4D {
    const b1 = this.conv(`${n}.branch1x1`, x, 1, 'valid');
    const b5 = this.conv(`${n}.branch5x5_2`, this.conv(`${n}.branch5x5_1`, x, 1, 'valid'), 1, 'same');
    let b3 = this.conv(`${n}.branch3x3dbl_1`, x, 1, 'valid');
    b3 = this.conv(`${n}.branch3x3dbl_2`, b3, 1, 'same');
    b3 = this.conv(`${n}.branch3x3dbl_3`, b3, 1, 'same');
    const bp = this.conv(`${n}.branch_pool`, tf.avgPool(x, 3, 1, 'same'), 1, 'valid');
    return tf.concat([b1, b5, b3, bp], 3);
  }

  private blockB(n: string, x: tf.Tensor4D): tf.Tensor4D {
    const b3 = this.conv(`${n}.branch3x3`, x, 2, 'valid');
    let bd = this.conv(`${n}.branch3x3dbl_1`, x, 1, 'valid');
    bd = this.conv(`${n}.branch3x3dbl_2`, bd, 1, 'same');
    bd = this.conv(`${n}.branch3x3dbl_3`, bd, 2, 'valid');
    return tf.concat([b3, bd, tf.maxPool(x, 3, 2, 'valid')], 3);
  }

  private blockC(n: string, x: tf.Tensor4D): tf.Tensor4D;
  private blockC(n: string, x: tf.Tensor4D, keepSpatial: true): { out: tf.Tensor4D; spatial: tf.Tensor4D };
  private blockC(n: string, x: tf.Tensor4D, keepSpatial = false): tf.Tensor4D | { out: tf.Tensor4D; spatial: tf.Tensor4D } {
    const b1 = this.conv(`${n}.branch1x1`, x, 1, 'valid');
    let b7 = this.conv(`${n}.branch7x7_1`, x, 1, 'valid');
    b7 = this.conv(`${n}.branch7x7_2`, b7, 1, 'same');
    b7 = this.conv(`${n}.branch7x7_3`, b7, 1, 'same');
    let bd = this.conv(`${n}.branch7x7dbl_1`, x, 1, 'valid');
    for (const k of [2, 3, 4, 5]) bd = this.conv(`${n}.branch7x7dbl_${k}`, bd, 1, 'same');
    const bp = this.conv(`${n}.branch_pool`, tf.avgPool(x, 3, 1, 'same'), 1, 'valid');
    const out = tf.concat([b1, b7, bd, bp], 3);
    if (!keepSpatial) return out;
    // mixed_6/conv is this block's 1x1 branch after its ReLU.
    return { out, spatial: tf.slice(b1, [0, 0, 0, 0], [-1, -1, -1, SPATIAL_CHANNELS]) };
  }

  private blockD(n: string, x: tf.Tensor4D): tf.Tensor4D {
    const b3 = this.conv(`${n}.branch3x3_2`, this.conv(`${n}.branch3x3_1`, x, 1, 'valid'), 2, 'valid');
    let b7 = this.conv(`${n}.branch7x7x3_1`, x, 1, 'valid');
    b7 = this.conv(`${n}.branch7x7x3_2`, b7, 1, 'same');
    b7 = this.conv(`${n}.branch7x7x3_3`, b7, 1, 'same');
    b7 = this.conv(`${n}.branch7x7x3_4`, b7, 2, 'valid');
    return tf.concat([b3, b7, tf.maxPool(x, 3, 2, 'valid')], 3);
  }

  private blockE(n: string, x: tf.Tensor4D, pool: 'avg' | 'max'): tf.Tensor4D {
    const b1 = this.conv(`${n}.branch1x1`, x, 1, 'valid');
    const b3 = this.conv(`${n}.branch3x3_1`, x, 1, 'valid');
    const b3cat = tf.concat([this.conv(`${n}.branch3x3_2a`, b3, 1, 'same'), this.conv(`${n}.branch3x3_2b`, b3, 1, 'same')], 3);
    let bd = this.conv(`${n}.branch3x3dbl_1`, x, 1, 'valid');
    bd = this.conv(`${n}.branch3x3dbl_2`, bd, 1, 'same');
    const bdcat = tf.concat([this.conv(`${n}.branch3x3dbl_3a`, bd, 1, 'same'), this.conv(`${n}.branch3x3dbl_3b`, bd, 1, 'same')], 3);
    // FIDInceptionE_2 (Mixed_7c) max-pools here: a quirk of the TF graph that pytorch-fid keeps.
    const pooled = pool === 'avg' ? tf.avgPool(x, 3, 1, 'same') : tf.maxPool(x, 3, 1, 'same');
    const bp = this.conv(`${n}.branch_pool`, pooled, 1, 'valid');
    return tf.concat([b1, b3cat, bdcat, bp], 3);
  }
}

/** Read Inception weights: .safetensors directly, anything else through core's PyTorch checkpoint reader. */
export async function readWeightFile(path: string): Promise<Map<string, HostTensor>> {
  const core = (await import('@adm/core')) as Record<string, unknown>;
  if (/\.safetensors$/i.test(path)) {
    const f = await (core.readSafetensorsFile as (p: string) => Promise<{ names(): string[]; get(n: string): HostTensor }>)(path);
    return new Map(f.names().map((n) => [n, f.get(n)]));
  }
  const readTorch = core.readTorchCheckpointFile as ((p: string) => Promise<Map<string, HostTensor>>) | undefined;
  if (typeof readTorch !== 'function') {
    throw new TensorFileError(path, 'reading PyTorch .pth files needs @adm/core\'s readTorchCheckpointFile, which this build lacks; convert the weights to .safetensors');
  }
  try {
    return await readTorch(path);
  } catch (e) {
    // pytorch-fid's weights predate PyTorch 1.6's zip format; say how to convert them once.
    if (e instanceof TensorFileError && /legacy/i.test(e.message)) {
      throw new TensorFileError(
        path,
        `${e.detail}. Convert it once with PyTorch: python -c "import torch; torch.save(torch.load('${path}', map_location='cpu'), 'pt_inception-zip.pth')" ` +
          '(or save the state dict with safetensors.torch.save_file) and pass the new file',
      );
    }
    throw e;
  }
}
