import type * as tf from '@tensorflow/tfjs';

/** Per-call state of a forward pass: train/eval mode and the dropout seeds. */
export interface LayerContext {
  /** Dropout is active only while training (PyTorch's train()/eval()). */
  training: boolean;
  /** Seed of the next dropout mask; a recomputation (gradient checkpointing) replays the same seeds. */
  dropoutSeed?: () => number;
}

/**
 * A layer of a TimestepEmbedSequential: takes the activations and SiLU(emb) (the
 * activated embedding every ResBlock's emb_layers starts with, computed once per call).
 */
export interface EmbedLayer {
  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, ctx: LayerContext): tf.Tensor4D;
}

/** guided-diffusion's TimestepEmbedSequential: layers applied in order. */
export class EmbedSequential implements EmbedLayer {
  constructor(readonly layers: EmbedLayer[]) {}

  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, ctx: LayerContext): tf.Tensor4D {
    let h = x;
    for (const l of this.layers) h = l.apply(h, embAct, ctx);
    return h;
  }
}
