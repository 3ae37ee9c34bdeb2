// The benchmark's workloads. Each builds its network on the current backend and returns a
// forward step (one network call) and a train step (forward, loss, backward, Adam step).
import * as tf from '@tensorflow/tfjs';
import { SeededRandom, createGaussianDiffusion, installLeanGradients } from '@adm/core';
import { UNetModel } from '@adm/unet';
import { scheduleFactory } from '@adm/schedules';
import { attentionBlock, resBlock, type Network } from './blocks.js';
import { IMAGENET64_FLAGS, MNIST_FLAGS, unetKwargs, type ModelFlags } from './presets.js';

export type Mode = 'forward' | 'train';

export interface Built {
  forward(): Promise<void>;
  train(): Promise<void>;
  /** What the train step's loss is. */
  loss: string;
  /** Said in the train record (e.g. gradient checkpointing). */
  trainNote?: string;
  dispose(): void;
}

export interface Workload {
  name: string;
  batch: number;
  modes: Mode[];
  /** Rough forward GFLOP per batch, to size the number of runs before running. */
  gflopForward: number;
  description: string;
  build(batch: number, opts?: BuildOptions): Promise<Built>;
}

export interface BuildOptions {
  /** UNet gradient checkpointing (use_checkpoint) in the train step. */
  checkpoint: boolean;
}

const randn = (rng: SeededRandom, shape: number[]) => tf.tensor(rng.normal(shape.reduce((a, b) => a * b, 1)), shape, 'float32');

async function readScalar(t: tf.Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

// The toolkit's training loops run the backward pass through core's lean gradients (the
// same values as tfjs's own, with each intermediate freed once used); so do these steps.
installLeanGradients();

function blockWorkload(net: Network, x: tf.Tensor4D): Built {
  const opt = tf.train.adam(1e-4);
  return {
    loss: 'mean(square(out))',
    forward: () => readScalar(tf.tidy(() => tf.sum(net.forward(x)))),
    train: () => readScalar(opt.minimize(() => tf.mean(tf.square(net.forward(x))), true, net.variables)!),
    dispose: () => {
      net.dispose();
      opt.dispose();
      x.dispose();
    },
  };
}

function unetWorkload(flags: ModelFlags, batch: number, hybridLoss: boolean, checkpoint: boolean): Built {
  const rng = new SeededRandom(0);
  // use_checkpoint only changes the train step (the forward pass is the same computation).
  const model = new UNetModel({ ...unetKwargs(flags), use_checkpoint: checkpoint }, { seed: 0 });
  const s = flags.image_size;
  const x = randn(rng, [batch, s, s, flags.in_channels]) as tf.Tensor4D;
  const steps = Array.from({ length: batch }, () => rng.int(1000));
  const t = tf.tensor1d(steps, 'int32');
  const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(flags.num_classes)), 'int32');
  const vars = [...model.parameters().values()];
  const opt = tf.train.adam(1e-4);
  const diffusion = hybridLoss
    ? createGaussianDiffusion({ steps: 1000, learn_sigma: flags.learn_sigma, noise_schedule: 'linear' }, scheduleFactory)
    : undefined;
  return {
    trainNote: checkpoint ? 'use_checkpoint=true (gradient checkpointing: each block recomputed in the backward pass)' : undefined,
    loss: diffusion ? "hybrid loss L_simple + L_vlb (core's GaussianDiffusion.trainingLosses, learned sigmas)" : 'mean(square(out))',
    forward: () => {
      model.training = false;
      return readScalar(tf.tidy(() => tf.sum(model.apply(x, t, { y }))));
    },
    train: () => {
      model.training = true;
      return readScalar(
        opt.minimize(
          () => (diffusion ? tf.mean(diffusion.trainingLosses(model, x, steps, { cond: { y }, random: rng }).loss) : tf.mean(tf.square(model.apply(x, t, { y })))) as tf.Scalar,
          true,
          vars,
        )!,
      );
    },
    dispose: () => {
      model.dispose();
      opt.dispose();
      tf.dispose([x, t, y]);
    },
  };
}

export const WORKLOADS: Workload[] = [
  {
    name: 'res128', batch: 16, modes: ['forward', 'train'], gflopForward: 9.66,
    description: 'x + conv3x3(SiLU(GN32(conv3x3(SiLU(GN32(x)))))), 128 ch, 32x32',
    build: async (b) => blockWorkload(resBlock(128), tf.tensor(new SeededRandom(1).normal(b * 32 * 32 * 128), [b, 32, 32, 128]) as tf.Tensor4D),
  },
  {
    name: 'attn128', batch: 16, modes: ['forward', 'train'], gflopForward: 1.07,
    description: 'ADM attention block (GN32, 1x1 qkv, 4 heads, softmax, 1x1 proj, residual), 128 ch, 16x16',
    build: async (b) => blockWorkload(attentionBlock(128, 4), tf.tensor(new SeededRandom(1).normal(b * 16 * 16 * 128), [b, 16, 16, 128]) as tf.Tensor4D),
  },
  {
    name: 'unet-mnist', batch: 64, modes: ['forward', 'train'], gflopForward: 2.8 * 64,
    description: 'MNIST preset ADM (28x28, 64 ch, mult 1,2,2, 2 res blocks, attention at 14 and 7, 8.0M params)',
    build: async (b, o) => unetWorkload(MNIST_FLAGS, b, true, o?.checkpoint ?? false),
  },
  {
    name: 'unet-imagenet64', batch: 4, modes: ['forward'], gflopForward: 219 * 4,
    description: "the paper's ImageNet 64 conditional ADM (296M params)",
    build: async (b, o) => unetWorkload(IMAGENET64_FLAGS, b, false, o?.checkpoint ?? false),
  },
];
