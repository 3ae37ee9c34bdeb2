// Shared helpers of the diffusion tests (not exported from the package).
import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../contracts/denoiser.js';
import type { NoiseSchedule } from '../contracts/noise-schedule.js';

/** A NoiseSchedule over given betas (core cannot import @adm/schedules). */
export function testSchedule(betas: ArrayLike<number>, timestepMap?: ArrayLike<number>, originalNumSteps?: number): NoiseSchedule {
  const b = Float64Array.from(betas);
  const ac = new Float64Array(b.length);
  let p = 1;
  b.forEach((beta, i) => {
    p *= 1 - beta;
    ac[i] = p;
  });
  const map = Int32Array.from(timestepMap ?? [...b.keys()]);
  return {
    name: 'test',
    numTimesteps: b.length,
    originalNumSteps: originalNumSteps ?? b.length,
    betas: b,
    alphasCumprod: ac,
    timestepMap: map,
    respace: () => {
      throw new Error('not needed in these tests');
    },
  };
}

/**
 * A deterministic fake network: out = a * x + 0.001 * t (eps-like channels), and, with
 * learnSigma, v = b * x (variance channels). `a`, `b` are variables so gradients can be checked.
 */
export class FakeDenoiser implements Denoiser {
  readonly a = tf.variable(tf.scalar(0.5), true, `fake_a_${Math.random()}`);
  readonly b = tf.variable(tf.scalar(0.3), true, `fake_b_${Math.random()}`);
  readonly seen: { t: number[]; y?: number[] }[] = [];
  readonly info;
  constructor(readonly learnSigma: boolean, channels = 3) {
    this.info = { imageSize: 2, inChannels: channels, outChannels: learnSigma ? 2 * channels : channels, learnSigma };
  }
  apply(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
    this.seen.push({ t: Array.from(t.dataSync()), y: cond?.y ? Array.from(cond.y.dataSync()) : undefined });
    return tf.tidy(() => {
      const eps = tf.add(tf.mul(x, this.a), tf.mul(tf.reshape(t, [-1, 1, 1, 1]), 0.001));
      return (this.learnSigma ? tf.concat([eps, tf.mul(x, this.b)], 3) : eps) as tf.Tensor4D;
    });
  }
  /** The same on host values (x NHWC flattened, t per example). */
  host(x: Float32Array, t: number[], shape: number[]): { eps: number[]; v: number[] } {
    const per = shape[1] * shape[2] * shape[3];
    const eps: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < x.length; i++) {
      const n = Math.floor(i / per);
      eps.push(0.5 * x[i] + 0.001 * t[n]);
      v.push(0.3 * x[i]);
    }
    return { eps, v };
  }
  dispose(): void {
    this.a.dispose();
    this.b.dispose();
  }
}

/** Deterministic pseudo-random values in [-1, 1). */
export function wave(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.999);
}
