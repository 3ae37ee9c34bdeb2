import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@adm/core';

/**
 * How images become the network's 299x299 input in [-1, 1].
 *
 * - `evaluator`: what guided-diffusion's evaluations/evaluator.py does by feeding raw [0, 255]
 *   pixels into the TF 2015-12-05 graph: TF1's legacy ResizeBilinear (no half-pixel
 *   centres: src = dst * in/out), then (x - 128) / 128 (range [-1, 0.9921875]). Use it to
 *   reproduce the paper's numbers.
 * - `pytorch-fid`: pytorch-fid's InceptionV3 wrapper: x / 255, bilinear resize with
 *   half-pixel centres (F.interpolate align_corners=False), then 2x - 1.
 *
 * The two differ by up to ~1 at single input pixels (sharp edges), so features, FID and
 * the other metrics differ slightly between them with the same weights.
 */
export type InceptionPreprocessing = 'evaluator' | 'pytorch-fid';

export const INCEPTION_INPUT_SIZE = 299;

export function parsePreprocessing(s: string): InceptionPreprocessing {
  if (s === 'evaluator' || s === 'pytorch-fid') return s;
  throw new ConfigError('preprocessing', `unknown Inception preprocessing "${s}" (expected "evaluator" or "pytorch-fid")`);
}

/**
 * Bilinear resize weights [outSize x inSize] computed in float64. `halfPixel`: src = (dst +
 * 0.5) * in/out - 0.5 clamped below at 0 (PyTorch align_corners=False, TF2); otherwise TF1's
 * legacy src = dst * in/out. Neighbours are floor(src) and the next index clamped to the edge.
 */
export function bilinearResizeMatrix(inSize: number, outSize: number, halfPixel: boolean): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = halfPixel ? Math.max(0, (o + 0.5) * scale - 0.5) : o * scale;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const frac = src - i0;
    m[o * inSize + i0] += 1 - frac;
    m[o * inSize + i1] += frac;
  }
  return m;
}

/**
 * Separable bilinear resize of NHWC images as two matmuls with float64-derived weights:
 * the same result on every backend (tfjs' own resize kernels round their source
 * coordinates differently per backend, off by ~1e-5 on wasm).
 */
export function resizeBilinearSeparable(x: tf.Tensor4D, outH: number, outW: number, halfPixel: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const wy = tf.tensor2d(bilinearResizeMatrix(h, outH, halfPixel), [outH, h]);
    const wx = tf.tensor2d(bilinearResizeMatrix(w, outW, halfPixel), [outW, w]);
    // Rows: [H, B*W*C] -> [outH, B*W*C]
    const rows = tf.matMul(wy, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c]));
    // Columns: [W, outH*B*C] -> [outW, outH*B*C]
    const byCol = tf.reshape(tf.transpose(tf.reshape(rows, [outH, b, w, c]), [2, 0, 1, 3]), [w, outH * b * c]);
    const cols = tf.matMul(wx, byCol);
    return tf.transpose(tf.reshape(cols, [outW, outH, b, c]), [2, 1, 0, 3]) as tf.Tensor4D;
  });
}

/** NHWC RGB pixels in [0, 255] (any numeric dtype) -> [B, 299, 299, 3] float32 network input. */
export function preprocessImages(pixels: tf.Tensor4D, mode: InceptionPreprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    const x = pixels.toFloat();
    const n = INCEPTION_INPUT_SIZE;
    if (mode === 'pytorch-fid') {
      const resized = resizeBilinearSeparable(tf.div(x, 255) as tf.Tensor4D, n, n, true);
      return tf.sub(tf.mul(resized, 2), 1) as tf.Tensor4D;
    }
    const resized = resizeBilinearSeparable(x, n, n, false);
    return tf.mul(tf.sub(resized, 128), 1 / 128) as tf.Tensor4D;
  });
}
