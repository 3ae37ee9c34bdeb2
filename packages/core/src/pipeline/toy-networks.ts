import * as tf from '@tensorflow/tfjs';
import type { Classifier, Conditioning, Denoiser, NetworkInfo } from '../contracts/denoiser.js';
import { SeededRandom } from '../random.js';

function weights(random: SeededRandom, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = random.normal(n);
  for (let i = 0; i < n; i++) v[i] *= std;
  return tf.tensor(v, shape, 'float32');
}

/** sin/cos features of the (original) step index t, [N, 4]. */
function timeFeatures(t: tf.Tensor1D): tf.Tensor2D {
  const s = tf.div(tf.cast(t, 'float32'), 1000);
  return tf.stack([tf.sin(tf.mul(s, 3)), tf.cos(tf.mul(s, 3)), tf.sin(tf.mul(s, 11)), tf.cos(tf.mul(s, 11))], 1) as tf.Tensor2D;
}

export interface ToyDenoiserOptions {
  imageSize: number;
  channels: number;
  learnSigma?: boolean;
  numClasses?: number;
  seed?: number;
}

/**
 * A tiny random convolutional denoiser implementing core's Denoiser contract, for tests and
 * demos that must run in milliseconds: two 3x3 convs with a timestep and (optional) class
 * bias. Not a model of anything; its outputs are smooth functions of x, t and y.
 */
export class ToyDenoiser implements Denoiser {
  readonly info: NetworkInfo;
  private readonly w1: tf.Tensor4D;
  private readonly w2: tf.Tensor4D;
  private readonly tProj: tf.Tensor2D;
  private readonly classEmb?: tf.Tensor2D;
  private readonly hidden = 8;

  constructor(o: ToyDenoiserOptions) {
    const c = o.channels;
    const out = o.learnSigma ? 2 * c : c;
    this.info = { imageSize: o.imageSize, inChannels: c, outChannels: out, learnSigma: !!o.learnSigma, numClasses: o.numClasses };
    const r = new SeededRandom(o.seed ?? 1);
    this.w1 = weights(r, [3, 3, c, this.hidden], 0.3) as tf.Tensor4D;
    this.w2 = weights(r, [3, 3, this.hidden, out], 0.2) as tf.Tensor4D;
    this.tProj = weights(r, [4, this.hidden], 0.5) as tf.Tensor2D;
    if (o.numClasses !== undefined) this.classEmb = weights(r, [o.numClasses, this.hidden], 0.5) as tf.Tensor2D;
  }

  apply(x: tf.Tensor4D, t: tf.Tensor1D, cond: Conditioning = {}): tf.Tensor4D {
    return tf.tidy(() => {
      let bias = tf.matMul(timeFeatures(t), this.tProj);
      if (this.classEmb) {
        if (!cond.y) throw new Error('ToyDenoiser: class-conditional model needs cond.y');
        bias = tf.add(bias, tf.gather(this.classEmb, tf.cast(cond.y, 'int32')));
      }
      const h = tf.tanh(tf.add(tf.conv2d(x, this.w1, 1, 'same'), tf.reshape(bias, [-1, 1, 1, this.hidden])));
      const o = tf.conv2d(h as tf.Tensor4D, this.w2, 1, 'same');
      if (!this.info.learnSigma) return tf.add(o, tf.mul(0.5, x)) as tf.Tensor4D;
      const c = this.info.inChannels;
      // v channels squashed into [-1, 1], as a learned-range model's are in practice.
      return tf.concat([tf.add(tf.slice(o, [0, 0, 0, 0], [-1, -1, -1, c]), tf.mul(0.5, x)), tf.tanh(tf.slice(o, [0, 0, 0, c], [-1, -1, -1, c]))], 3) as tf.Tensor4D;
    });
  }

  dispose(): void {
    tf.dispose([this.w1, this.w2, this.tProj, ...(this.classEmb ? [this.classEmb] : [])]);
  }
}

export interface ToyClassifierOptions {
  imageSize: number;
  channels: number;
  numClasses: number;
  seed?: number;
}

/** A tiny differentiable noisy classifier implementing core's Classifier contract (tests, demos). */
export class ToyClassifier implements Classifier {
  readonly info: { imageSize: number; inChannels: number; numClasses: number };
  private readonly w: tf.Tensor4D;
  private readonly tProj: tf.Tensor2D;
  private readonly head: tf.Tensor2D;
  private readonly hidden = 6;

  constructor(o: ToyClassifierOptions) {
    this.info = { imageSize: o.imageSize, inChannels: o.channels, numClasses: o.numClasses };
    const r = new SeededRandom(o.seed ?? 2);
    this.w = weights(r, [3, 3, o.channels, this.hidden], 0.5) as tf.Tensor4D;
    this.tProj = weights(r, [4, this.hidden], 0.5) as tf.Tensor2D;
    this.head = weights(r, [this.hidden, o.numClasses], 1.0) as tf.Tensor2D;
  }

  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = tf.tanh(tf.add(tf.conv2d(x, this.w, 1, 'same'), tf.reshape(tf.matMul(timeFeatures(t), this.tProj), [-1, 1, 1, this.hidden])));
      return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, this.head);
    });
  }

  dispose(): void {
    tf.dispose([this.w, this.tProj, this.head]);
  }
}
