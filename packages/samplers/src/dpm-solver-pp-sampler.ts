import * as tf from '@tensorflow/tfjs';
import type { Sampler, SamplerContext, SamplerRun } from '@adm/core';

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of
 * Diffusion Probabilistic Models", Algorithm 2), a multistep second-order solver of the
 * diffusion ODE in x0-prediction form, over the respaced schedule's own steps:
 * x_t = (sigma_t/sigma_s) x_s - alpha_t (e^{-h} - 1) D, h = lambda_t - lambda_s,
 * lambda = log(alpha/sigma), D = (1 + 1/(2r)) x0_s - 1/(2r) x0_prev, r = h_prev/h.
 * The first step is first order (DDIM), the last returns the x0 prediction (sigma = 0).
 * Guidance adjusts eps and x0 is re-derived from it (Algorithm 2 form).
 */
export class DpmSolverPP2MSampler implements Sampler {
  readonly name = 'dpm-solver++';
  readonly guidanceForm = 'eps' as const;

  begin(ctx: SamplerContext): SamplerRun {
    const d = ctx.diffusion;
    let prevX0: tf.Tensor4D | undefined;
    let hPrev = 0;
    return {
      step(x, index) {
        const p = ctx.predict(x, index);
        const x0 = p.predXstart;
        const abar = d.alphasCumprod[index];
        const abarNext = d.alphasCumprodPrev[index];
        let sample: tf.Tensor4D;
        let h = 0;
        if (abarNext >= 1) {
          sample = x0;
        } else {
          const lambda = (ab: number) => 0.5 * Math.log(ab / (1 - ab));
          h = lambda(abarNext) - lambda(abar);
          const sigmaRatio = Math.sqrt((1 - abarNext) / (1 - abar));
          const alphaNext = Math.sqrt(abarNext);
          let D: tf.Tensor4D = x0;
          if (prevX0 !== undefined) {
            const r = hPrev / h;
            D = tf.sub(tf.mul(1 + 1 / (2 * r), x0), tf.mul(1 / (2 * r), prevX0));
          }
          sample = tf.sub(tf.mul(sigmaRatio, x), tf.mul(alphaNext * Math.expm1(-h), D));
        }
        prevX0?.dispose();
        prevX0 = tf.keep(x0.clone());
        hPrev = h;
        return { sample, predXstart: x0 };
      },
      dispose() {
        prevX0?.dispose();
        prevX0 = undefined;
      },
    };
  }
}
