import * as tf from '@tensorflow/tfjs';
import type { Sampler, SamplerContext, SamplerRun } from '@adm/core';

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2; guided-diffusion `p_sample`):
 * x_{t-1} = mean + exp(0.5 log Sigma) z, no noise at the last step. Guidance shifts the
 * mean (the paper's Algorithm 1).
 */
export class DdpmSampler implements Sampler {
  readonly name = 'ddpm';
  readonly guidanceForm = 'mean' as const;

  begin(ctx: SamplerContext): SamplerRun {
    return {
      step(x, index) {
        // guided-diffusion draws the step's noise after p_mean_variance and before the
        // classifier gradient; neither draws noise, so drawing it first keeps the stream.
        const noise = tf.tensor4d(ctx.random.normal(x.size, x.shape), x.shape);
        const p = ctx.predict(x, index);
        const sample = index === 0 ? p.mean : tf.add(p.mean, tf.mul(tf.exp(tf.mul(0.5, p.logVariance)), noise));
        return { sample: sample as tf.Tensor4D, predXstart: p.predXstart };
      },
      dispose() {},
    };
  }
}
