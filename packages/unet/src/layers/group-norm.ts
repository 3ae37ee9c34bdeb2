import * as tf from '@tensorflow/tfjs';
import { ConfigError, GROUP_NORM_KERNEL } from '@adm/core';
import type { ParameterScope } from '../parameter-scope.js';

/** Kernel name of a fused GroupNorm(+SiLU) a backend may register (@adm/native and wasm do; contract in @adm/core). */
export const FUSED_GROUP_NORM = GROUP_NORM_KERNEL;

/** guided-diffusion's normalization(): GroupNorm(32 groups, eps 1e-5, affine) in float32, channels last. */
export class GroupNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly channels: number,
    readonly groups = 32,
    readonly eps = 1e-5,
  ) {
    if (channels % groups !== 0) {
      throw new ConfigError(scope.prefix || 'GroupNorm', `${channels} channels cannot be split into ${groups} groups (GroupNorm32 needs a multiple of 32)`);
    }
    this.weight = scope.add('weight', 'same', [channels], 'ones');
    this.bias = scope.add('bias', 'same', [channels], 'zeros');
  }

  /** Normalise [N, ..., C] per sample and group, without the affine part. */
  normalize<T extends tf.Tensor>(x: T): T {
    const n = x.shape[0];
    const c = this.channels;
    const xr = tf.reshape(x, [n, -1, this.groups, c / this.groups]);
    const { mean, variance } = tf.moments(xr, [1, 3], true);
    const y = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.reshape(y, x.shape) as T;
  }

  /** GN(x) * weight + bias, then SiLU when `silu` (the normalization() + SiLU pairs of guided-diffusion). */
  apply<T extends tf.Tensor>(x: T, silu = false): T {
    if (tf.getKernel(FUSED_GROUP_NORM, tf.getBackend()) !== undefined) {
      // A backend that offers the fused kernel (native, wasm) runs it by name; its extra
      // outputs (mean, rstd) are left to the caller's tidy.
      const attrs = { groups: this.groups, epsilon: this.eps, silu };
      return (tf.engine().runKernel(FUSED_GROUP_NORM, { x, gamma: this.weight, beta: this.bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[])[0] as T;
    }
    const y = tf.add(tf.mul(this.normalize(x), this.weight), this.bias) as T;
    return silu ? tf.mul(y, tf.sigmoid(y)) : y;
  }
}
