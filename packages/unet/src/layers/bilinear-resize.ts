import * as tf from '@tensorflow/tfjs';

/** Source indices and weights of one axis of F.interpolate(mode="bilinear", align_corners=False), in float32 like PyTorch. */
export function bilinearAxis(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l0: Float32Array; l1: Float32Array } {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    // half-pixel centres, clamped at 0; the upper neighbour clamped at the edge
    let src = Math.fround(Math.fround(scale * Math.fround(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const a = Math.trunc(src);
    i0[d] = a;
    i1[d] = a + (a < inSize - 1 ? 1 : 0);
    l1[d] = Math.fround(src - a);
    l0[d] = Math.fround(1 - l1[d]);
  }
  return { i0, i1, l0, l1 };
}

/**
 * F.interpolate(x, (outH, outW), mode="bilinear", align_corners=False) on NHWC, no
 * antialiasing: h0l * (w0l x00 + w1l x01) + h1l * (w0l x10 + w1l x11), PyTorch's order.
 */
export function resizeBilinear(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const ry = bilinearAxis(h, outH);
    const rx = bilinearAxis(w, outW);
    const wx0 = tf.tensor4d(rx.l0, [1, 1, outW, 1]);
    const wx1 = tf.tensor4d(rx.l1, [1, 1, outW, 1]);
    const alongW = (rows: tf.Tensor4D) =>
      tf.add(tf.mul(tf.gather(rows, tf.tensor1d(rx.i0, 'int32'), 2), wx0), tf.mul(tf.gather(rows, tf.tensor1d(rx.i1, 'int32'), 2), wx1));
    const t0 = alongW(tf.gather(x, tf.tensor1d(ry.i0, 'int32'), 1));
    const t1 = alongW(tf.gather(x, tf.tensor1d(ry.i1, 'int32'), 1));
    return tf.add(tf.mul(t0, tf.tensor4d(ry.l0, [1, outH, 1, 1])), tf.mul(t1, tf.tensor4d(ry.l1, [1, outH, 1, 1]))) as tf.Tensor4D;
  });
}
