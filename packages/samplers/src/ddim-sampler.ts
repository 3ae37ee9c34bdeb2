import * as tf from '@tensorflow/tfjs';
import { ConfigError, type Sampler, type SamplerContext, type SamplerRun } from '@adm/core';

/**
 * DDIM (Song et al. 2021, Eq. 12; guided-diffusion `ddim_sample`): eps re-derived from the
 * (clipped, possibly guided) x0, then
 * x_{t-1} = x0 sqrt(abar_prev) + sqrt(1 - abar_prev - sigma^2) eps + sigma z,
 * sigma = eta sqrt((1 - abar_prev)/(1 - abar)) sqrt(1 - abar/abar_prev). eta = 0 is
 * deterministic. Guidance adjusts eps (the paper's Algorithm 2).
 */
export class DdimSampler implements Sampler {
  readonly name = 'ddim';
  readonly guidanceForm = 'eps' as const;

  constructor(readonly eta = 0) {
    if (!Number.isFinite(eta) || eta < 0) throw new ConfigError('sampler.eta', `must be a number >= 0, got ${eta}`);
  }

  begin(ctx: SamplerContext): SamplerRun {
    const eta = this.eta;
    const d = ctx.diffusion;
    return {
      step(x, index) {
        const t = new Int32Array(x.shape[0]).fill(index);
        const p = ctx.predict(x, index);
        const eps = d.predictEpsFromXstart(x, t, p.predXstart);
        // float32 tensors as guided-diffusion computes them (_extract_into_tensor casts).
        const abar = d.extract(d.alphasCumprod, t);
        const abarPrev = d.extract(d.alphasCumprodPrev, t);
        const sigma = tf.mul(
          tf.mul(eta, tf.sqrt(tf.div(tf.sub(1, abarPrev), tf.sub(1, abar)))),
          tf.sqrt(tf.sub(1, tf.div(abar, abarPrev))),
        );
        // Drawn every step, as ddim_sample does, so recorded noise streams line up.
        const noise = tf.tensor4d(ctx.random.normal(x.size, x.shape), x.shape);
        const meanPred = tf.add(tf.mul(p.predXstart, tf.sqrt(abarPrev)), tf.mul(tf.sqrt(tf.sub(tf.sub(1, abarPrev), tf.square(sigma))), eps));
        const sample = index === 0 ? meanPred : tf.add(meanPred, tf.mul(sigma, noise));
        return { sample: sample as tf.Tensor4D, predXstart: p.predXstart };
      },
      dispose() {},
    };
  }
}
