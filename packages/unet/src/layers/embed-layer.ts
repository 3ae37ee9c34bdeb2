import type * as tf from '@tensorflow/tfjs';

/**
 * A layer of a TimestepEmbedSequential: takes the activations and SiLU(emb) (the
 * activated embedding every ResBlock's emb_layers starts with, computed once per call).
 */
export interface EmbedLayer {
  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, training: boolean): tf.Tensor4D;
}

/** guided-diffusion's TimestepEmbedSequential: layers applied in order. */
export class EmbedSequential implements EmbedLayer {
  constructor(readonly layers: EmbedLayer[]) {}

  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, training: boolean): tf.Tensor4D {
    let h = x;
    for (const l of this.layers) h = l.apply(h, embAct, training);
    return h;
  }
}
