import type * as tf from '@tensorflow/tfjs';
import type { Classifier, Conditioning, Denoiser } from './denoiser.js';
import type { DiffusionProcess, GuidanceForm, StepPrediction } from './sampler.js';

/** Where a run is: the respaced index being taken, its position, and the run length. */
export interface StepPosition {
  /** Respaced index (numSteps - 1 at the noisiest step, 0 at the last). */
  index: number;
  /** 0-based position in the run (0 = noisiest). */
  step: number;
  numSteps: number;
}

/** The state of one sampling step that guidance terms read and adjust. */
export interface GuidanceState extends StepPosition {
  diffusion: DiffusionProcess;
  /** Current sample x_t, NHWC. */
  x: tf.Tensor4D;
  /** Respaced index per batch element. */
  t: Int32Array;
  /** The ORIGINAL step index the networks see, per batch element, float32 [N]. */
  modelT: tf.Tensor1D;
  /** Conditioning given to the denoiser. */
  cond: Conditioning;
  /** The class labels the run targets, int32 [N]; set even when the denoiser is unconditional. */
  labels?: tf.Tensor1D;
  /** The prediction so far (after earlier terms). */
  pred: StepPrediction;
}

/**
 * A guidance term. Terms compose in order. A term either wraps the denoiser (classifier-
 * free guidance combines two network outputs before the diffusion math sees them) or
 * adjusts the step's prediction in the form the sampler consumes: 'mean' (Algorithm 1,
 * DDPM) or 'eps' (Algorithm 2, DDIM and every eps-based solver). Called inside the run's
 * tf.tidy: terms need not dispose their intermediates and must not dispose their inputs.
 */
export interface GuidanceTerm {
  readonly name: string;
  wrapDenoiser?(denoiser: Denoiser, position: () => StepPosition): Denoiser;
  guide?(state: GuidanceState, form: GuidanceForm): StepPrediction;
}

/** What a guidance factory may need from the pipeline. */
export interface GuidanceDeps {
  denoiser: Denoiser;
  /** The noisy classifier, when the pipeline has one. */
  classifier?: Classifier;
  /** Builds a denoiser from another model folder (classifier-free guidance with a separate unconditional model). */
  loadDenoiser?(folder: string): Promise<Denoiser>;
}

/** Builds a guidance term from JSON options; bound under TOKENS.GuidanceRegistry. */
export interface GuidanceFactory {
  /** The `type` a pipeline JSON names ("classifier", "classifier-free"). */
  readonly type: string;
  readonly summary: string;
  /** Options are JSON; errors are ConfigErrors naming `field` + the option. */
  create(options: Record<string, unknown>, deps: GuidanceDeps, field: string): Promise<GuidanceTerm> | GuidanceTerm;
}

/** A guidance scale: constant or a function of the step position. */
export type GuidanceScale = number | ((position: StepPosition) => number);

export function scaleAt(scale: GuidanceScale, position: StepPosition): number {
  return typeof scale === 'number' ? scale : scale(position);
}
