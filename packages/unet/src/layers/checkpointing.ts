import * as tf from '@tensorflow/tfjs';
import type { EmbedLayer, LayerContext } from './embed-layer.js';

/**
 * Gradient checkpointing (guided-diffusion's use_checkpoint): run `block` without keeping
 * its activations for the backward pass, and recompute them there. The block's variables
 * are passed as explicit inputs of the custom op so their gradients flow. Dropout masks
 * are replayed from the same seeds, so the recomputation is the forward pass exactly.
 */
export function checkpointed(block: EmbedLayer, variables: readonly tf.Variable[], h: tf.Tensor4D, embAct: tf.Tensor2D, training: boolean, seed: number): tf.Tensor4D {
  const context = (): LayerContext => {
    let k = 0;
    return { training, dropoutSeed: () => seed + k++ };
  };
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (tensors: tf.Tensor[]) => void;
    const hIn = args[0] as tf.Tensor4D;
    const eIn = args[1] as tf.Tensor2D;
    save([hIn, eIn]);
    // the block's intermediates are freed at once; only the inputs are saved
    const value = tf.tidy(() => block.apply(hIn, eIn, context()));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        nestedGrads(() => {
          const xs = [saved[0], saved[1], ...variables];
          // allowNoGradients: blocks without a ResBlock (the first conv, Downsample, Upsample) ignore emb
          const engine = tf.engine() as unknown as { gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor, allow: boolean): { value: tf.Tensor; grads: Array<tf.Tensor | undefined> } };
          const { value: recomputed, grads } = engine.gradients(() => block.apply(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor2D, context()), xs, dy, true);
          recomputed.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h, embAct, ...variables) as tf.Tensor4D;
}

interface TapeState {
  gradientDepth: number;
  activeTape: Array<{ saved?: tf.Tensor[] }> | null;
}

/**
 * Run tf.grads inside a gradient function. tfjs 4.22's engine resets the active tape when
 * a gradient computation starts at depth 0 and drops it when it ends there, which would
 * destroy the outer backward pass; so the inner computation runs one level deeper, and
 * the tape nodes it adds (with the clones they saved) are removed afterwards.
 */
function nestedGrads<T>(run: () => T): T {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  const start = state.activeTape?.length ?? 0;
  state.gradientDepth++;
  try {
    return run();
  } finally {
    state.gradientDepth--;
    const added = state.activeTape ? state.activeTape.splice(start) : [];
    for (const node of added) for (const t of node.saved ?? []) t.dispose();
  }
}
