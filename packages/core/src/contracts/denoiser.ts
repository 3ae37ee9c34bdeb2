import type * as tf from '@tensorflow/tfjs';

/** Conditioning passed to networks: class labels, a low-resolution image (super-res). */
export interface Conditioning {
  /** Class labels, int32 [N]. */
  y?: tf.Tensor1D;
  /** Low-resolution image NHWC (SuperResModel). */
  lowRes?: tf.Tensor4D;
}

/** What a network declares about itself, in guided-diffusion's vocabulary. */
export interface NetworkInfo {
  imageSize: number;
  inChannels: number;
  outChannels: number;
  /** Output has 2C channels: eps and the variance interpolation v. */
  learnSigma: boolean;
  /** Number of classes when class-conditional. */
  numClasses?: number;
}

/** Named trainable parameters, under guided-diffusion's state_dict names. */
export interface HasParameters {
  /** name -> variable (NHWC/HWIO layouts inside). */
  parameters(): Map<string, import('@tensorflow/tfjs').Variable>;
  dispose(): void;
}

/**
 * A denoiser network: (x_t NHWC, t original-step indices [N] float32, conditioning) ->
 * raw model output NHWC: eps (C channels) or [eps, v] (2C channels) when learnSigma.
 * Must be differentiable and leave no tensors behind except its output.
 */
export interface Denoiser extends Partial<HasParameters> {
  readonly info: NetworkInfo;
  apply(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D;
}

/** A noisy classifier p(y | x_t, t): (x_t NHWC, t [N]) -> logits [N, classes]. Differentiable. */
export interface Classifier extends Partial<HasParameters> {
  readonly info: { imageSize: number; inChannels: number; numClasses: number };
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor2D;
}

/** A denoiser with its model's config.json flags (guided-diffusion names: the diffusion settings come from them). */
export interface LoadedDenoiser {
  denoiser: Denoiser;
  flags: Record<string, unknown>;
}

/** A noisy classifier with its model's config.json flags. */
export interface LoadedClassifier {
  classifier: Classifier;
  flags: Record<string, unknown>;
}

/**
 * Loads a denoiser and its flags from a model source (a folder path or URL, whatever the
 * bound loader understands); bound to TOKENS.DenoiserLoader.
 */
export interface DenoiserLoader {
  load(source: string): Promise<LoadedDenoiser>;
}

/** Loads a noisy classifier and its flags from a model source; bound to TOKENS.ClassifierLoader. */
export interface ClassifierLoader {
  load(source: string): Promise<LoadedClassifier>;
}
