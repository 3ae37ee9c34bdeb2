import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from '../contracts/denoiser.js';
import type { GuidanceTerm, StepPosition } from '../contracts/guidance.js';
import type { Sampler, StepPrediction } from '../contracts/sampler.js';
import type { GaussianDiffusion } from '../diffusion/gaussian-diffusion.js';
import { ShapeError } from '../errors.js';
import type { RandomSource } from '../random.js';

export interface SampleLoopOptions {
  diffusion: GaussianDiffusion;
  denoiser: Denoiser;
  sampler: Sampler;
  /** Applied in order: denoiser wrappers first (classifier-free), then prediction terms. */
  guidance?: readonly GuidanceTerm[];
  /** Conditioning the denoiser sees (y only for class-conditional models; lowRes for super-res). */
  cond?: Conditioning;
  /** Class labels guidance targets (int32 [N]); may be set for unconditional denoisers. */
  labels?: tf.Tensor1D;
  random: RandomSource;
  /** Clip predicted x0 to [-1, 1] (guided-diffusion's clip_denoised). */
  clipDenoised: boolean;
  /** x_T: a given tensor (not disposed by the loop), or a shape to draw N(0, I) from `random`. */
  xT: tf.Tensor4D | readonly [number, number, number, number];
}

/** One finished step. Its tensors belong to the loop and are valid until the next step. */
export interface LoopStep extends StepPosition {
  sample: tf.Tensor4D;
  predXstart: tf.Tensor4D;
}

/**
 * The sampling loop (guided-diffusion's *_sample_loop_progressive): from x_T over every
 * respaced index, noisiest first. Each step runs inside one tf.tidy, so memory is flat;
 * the last step's tensors are freed when the generator finishes or is closed.
 */
export function* sampleLoop(o: SampleLoopOptions): Generator<LoopStep, void, undefined> {
  const { diffusion, sampler, random, clipDenoised } = o;
  const numSteps = diffusion.numTimesteps;
  const cond = o.cond ?? {};
  const guidance = o.guidance ?? [];
  let position: StepPosition = { index: numSteps - 1, step: 0, numSteps };
  let denoiser = o.denoiser;
  for (const term of guidance) if (term.wrapDenoiser) denoiser = term.wrapDenoiser(denoiser, () => position);
  const guideTerms = guidance.filter((g) => g.guide);

  const predict = (x: tf.Tensor4D, index: number): StepPrediction => {
    const t = new Int32Array(x.shape[0]).fill(index);
    const out = diffusion.pMeanVariance(denoiser, x, t, { clipDenoised, cond });
    let pred: StepPrediction = { mean: out.mean, variance: out.variance, logVariance: out.logVariance, predXstart: out.predXstart, eps: out.eps };
    if (guideTerms.length) {
      const modelT = diffusion.modelTimesteps(t);
      for (const term of guideTerms) {
        pred = term.guide!({ ...position, diffusion, x, t, modelT, cond, labels: o.labels, pred }, sampler.guidanceForm);
      }
    }
    return pred;
  };

  const given = o.xT instanceof tf.Tensor ? o.xT : undefined;
  const shape = (given ? given.shape : o.xT) as [number, number, number, number];
  if (shape.length !== 4) throw new ShapeError(`x_T: expected an NHWC shape [N, H, W, C], got [${shape.join(', ')}]`);
  let x: tf.Tensor4D = given ?? tf.tensor4d(random.normal(shape[0] * shape[1] * shape[2] * shape[3], shape), shape);
  let predXstart: tf.Tensor4D | undefined;
  const run = sampler.begin({ diffusion, predict, random });
  try {
    for (let step = 0; step < numSteps; step++) {
      const index = numSteps - 1 - step;
      position = { index, step, numSteps };
      const current = x;
      const next = tf.tidy(() => run.step(current, index));
      if (current !== given) current.dispose();
      predXstart?.dispose();
      x = next.sample;
      predXstart = next.predXstart;
      yield { ...position, sample: x, predXstart };
    }
  } finally {
    run.dispose();
    if (x !== given) x.dispose();
    predXstart?.dispose();
  }
}
