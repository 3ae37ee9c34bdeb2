// Shared helpers of the training tests (not exported from the package): tiny networks
// and a schedule, since @adm/train may import only @adm/core.
import * as tf from '@tensorflow/tfjs';
import { type Classifier, type Conditioning, type Denoiser, type HasParameters, type NoiseSchedule, SeededRandom } from '@adm/core';

let counter = 0;
function param(shape: number[], rng: SeededRandom, std: number, name: string): tf.Variable {
  const v = Float32Array.from(rng.normal(shape.reduce((a, b) => a * b, 1)), (x) => x * std);
  return tf.variable(tf.tensor(v, shape, 'float32'), true, `${name}_${counter++}`);
}

/** A linear-beta NoiseSchedule of `steps` steps. */
export function linearTestSchedule(steps: number): NoiseSchedule {
  // guided-diffusion scales the 1000-step range by 1000 / T; capped so short test schedules keep beta < 1.
  const scale = 1000 / steps;
  const start = scale * 1e-4;
  const end = Math.min(scale * 0.02, 0.3);
  const betas = Float64Array.from({ length: steps }, (_, i) => start + ((end - start) * i) / (steps - 1));
  const ac = new Float64Array(steps);
  let p = 1;
  betas.forEach((b, i) => (ac[i] = p *= 1 - b));
  const self: NoiseSchedule = {
    name: 'linear',
    numTimesteps: steps,
    originalNumSteps: steps,
    betas,
    alphasCumprod: ac,
    timestepMap: Int32Array.from({ length: steps }, (_, i) => i),
    respace: (spec: string) => {
      if (spec !== '') throw new Error('respacing is not needed in these tests');
      return self;
    },
  };
  return self;
}

/** A two-conv denoiser with a timestep and class bias: small enough for the cpu backend. */
export class TinyDenoiser implements Denoiser, HasParameters {
  readonly info;
  private readonly params = new Map<string, tf.Variable>();
  constructor(
    readonly imageSize: number,
    readonly channels: number,
    readonly learnSigma: boolean,
    readonly numClasses: number | undefined,
    seed = 0,
    hidden = 8,
  ) {
    const rng = new SeededRandom(seed);
    const out = learnSigma ? 2 * channels : channels;
    this.info = { imageSize, inChannels: channels, outChannels: out, learnSigma, ...(numClasses ? { numClasses } : {}) };
    this.params.set('in.weight', param([3, 3, channels, hidden], rng, 0.3, 'in_w'));
    this.params.set('in.bias', param([hidden], rng, 0.1, 'in_b'));
    this.params.set('time.weight', param([hidden], rng, 0.5, 'time_w'));
    if (numClasses) this.params.set('label_emb.weight', param([numClasses, hidden], rng, 0.5, 'label'));
    this.params.set('out.weight', param([3, 3, hidden, out], rng, 0.2, 'out_w'));
    this.params.set('out.bias', param([out], rng, 0.1, 'out_b'));
  }
  parameters(): Map<string, tf.Variable> {
    return this.params;
  }
  apply(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
    const p = (n: string) => this.params.get(n)!;
    return tf.tidy(() => {
      let h = tf.add(tf.conv2d(x, p('in.weight') as tf.Tensor4D, 1, 'same'), p('in.bias'));
      const temb = tf.mul(tf.reshape(tf.sin(tf.div(t, 100)), [-1, 1, 1, 1]), p('time.weight'));
      h = tf.add(h, temb);
      if (cond?.y && this.params.has('label_emb.weight')) h = tf.add(h, tf.reshape(tf.gather(p('label_emb.weight'), cond.y), [-1, 1, 1, h.shape[3] as number]));
      h = tf.relu(h);
      return tf.add(tf.conv2d(h as tf.Tensor4D, p('out.weight') as tf.Tensor4D, 1, 'same'), p('out.bias')) as tf.Tensor4D;
    });
  }
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** A conv + global mean + linear noisy classifier. */
export class TinyClassifier implements Classifier, HasParameters {
  readonly info;
  private readonly params = new Map<string, tf.Variable>();
  constructor(imageSize: number, channels: number, numClasses: number, seed = 0, hidden = 8) {
    const rng = new SeededRandom(seed);
    this.info = { imageSize, inChannels: channels, numClasses };
    this.params.set('conv.weight', param([3, 3, channels, hidden], rng, 0.3, 'c_w'));
    this.params.set('time.weight', param([hidden], rng, 0.5, 'c_t'));
    this.params.set('fc.weight', param([hidden, numClasses], rng, 0.3, 'fc_w'));
    this.params.set('fc.bias', param([numClasses], rng, 0.1, 'fc_b'));
  }
  parameters(): Map<string, tf.Variable> {
    return this.params;
  }
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor2D {
    const p = (n: string) => this.params.get(n)!;
    return tf.tidy(() => {
      const h = tf.relu(tf.add(tf.conv2d(x, p('conv.weight') as tf.Tensor4D, 1, 'same'), tf.mul(tf.reshape(tf.cos(tf.div(t, 100)), [-1, 1, 1, 1]), p('time.weight'))));
      return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, p('fc.weight') as tf.Tensor2D), p('fc.bias')) as tf.Tensor2D;
    });
  }
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** n labelled images: class k is a bright square of side k + 2 (learnable from pooled features). */
export function toyImages(n: number, size: number, channels: number, classes: number, seed = 1): { images: Float32Array; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const images = new Float32Array(n * size * size * channels).fill(-1);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = (labels[i] = rng.int(classes));
    const side = Math.min(size - 1, k + 2);
    for (let r = 1; r < 1 + side; r++) for (let c = 1; c < 1 + side; c++) for (let ch = 0; ch < channels; ch++) images[((i * size + r) * size + c) * channels + ch] = 1;
  }
  return { images, labels };
}
