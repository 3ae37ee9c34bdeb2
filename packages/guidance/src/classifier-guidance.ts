import { type Classifier, ConfigError, type GuidanceForm, type GuidanceScale, type GuidanceState, type GuidanceTerm, scaleAt, type StepPrediction } from '@adm/core';
import { type ClassifierGradientFn, classifierGradientFn } from './classifier-gradient.js';
import { conditionMean } from './condition-mean.js';
import { conditionScore } from './condition-score.js';

export interface ClassifierGuidanceOptions {
  /** s in the paper: constant or a schedule over steps. */
  scale: GuidanceScale;
  /** The noisy classifier (used unless `gradient` is given). */
  classifier?: Classifier;
  /** Computes s * grad log p(y | x_t, t) (e.g. @adm/unet's classifierGuidanceGradient). */
  gradient?: ClassifierGradientFn;
}

/**
 * Classifier guidance (Section 4): g = s grad_x log p_phi(y | x_t, t), applied as a mean
 * shift for samplers that consume the mean (Algorithm 1) or on eps for the others
 * (Algorithm 2). Works for conditional and unconditional denoisers: y comes from the
 * run's labels.
 */
export class ClassifierGuidance implements GuidanceTerm {
  readonly name = 'classifier';
  private readonly gradient: ClassifierGradientFn;

  constructor(readonly options: ClassifierGuidanceOptions) {
    if (options.gradient) this.gradient = options.gradient;
    else if (options.classifier) this.gradient = classifierGradientFn(options.classifier);
    else throw new ConfigError('guidance.classifier', 'classifier guidance needs a classifier or a gradient function');
  }

  guide(state: GuidanceState, form: GuidanceForm): StepPrediction {
    const s = scaleAt(this.options.scale, state);
    const y = state.labels ?? state.cond.y;
    if (s === 0) return state.pred;
    if (!y) throw new ConfigError('guidance.classifier', 'classifier guidance needs class labels for the run');
    const g = this.gradient(state.x, state.modelT, y, s);
    return form === 'mean' ? conditionMean(state.pred, g) : conditionScore(state.diffusion, state.x, state.t, state.pred, g);
  }
}
