import * as tf from '@tensorflow/tfjs';
import { ShapeError } from './errors.js';
import { type HostTensor, toFloat32, toInt32 } from './io/dtypes.js';

/** A host tensor as a tf tensor: integers -> int32, everything else -> float32. */
export function hostToTensor(h: HostTensor): tf.Tensor {
  const isInt = h.dtype === 'I64' || h.dtype === 'I32' || h.dtype === 'I16' || h.dtype === 'I8' || h.dtype === 'U8' || h.dtype === 'BOOL';
  return isInt ? tf.tensor(toInt32(h), h.shape, 'int32') : tf.tensor(toFloat32(h), h.shape, 'float32');
}

/** An NCHW host image batch (PyTorch layout) as an NHWC float32 tensor. */
export function nchwHostToNhwc(h: HostTensor, name = 'tensor'): tf.Tensor4D {
  if (h.shape.length !== 4) throw new ShapeError(`${name}: expected an NCHW image batch (4 dims), got [${h.shape.join(', ')}]`);
  return tf.tidy(() => tf.transpose(tf.tensor4d(toFloat32(h), h.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** NHWC tensor -> NCHW float32 values (to compare with PyTorch outputs). */
export async function nhwcToNchwData(t: tf.Tensor4D): Promise<Float32Array> {
  const n = tf.transpose(t, [0, 3, 1, 2]);
  try {
    return (await n.data()) as Float32Array;
  } finally {
    n.dispose();
  }
}

/** Same as nhwcToNchwData, synchronously. */
export function nhwcToNchwDataSync(t: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(t, [0, 3, 1, 2])).dataSync() as Float32Array;
}
