import * as tf from '@tensorflow/tfjs';
import { type Conditioning, ConfigError, type Denoiser, type GuidanceScale, type GuidanceTerm, scaleAt, type StepPosition } from '@adm/core';

export interface ClassifierFreeGuidanceOptions {
  /** w: eps' = (1 + w) eps(x, y) - w eps(x, null). Constant or a schedule over steps. */
  scale: GuidanceScale;
  /** The label that means "no class" for a model trained with label dropout. */
  nullLabel?: number;
  /** A separate unconditional model (instead of a null label). */
  unconditional?: Denoiser;
}

/**
 * Classifier-free guidance (Ho & Salimans 2021): a wrapper around the denoiser that mixes
 * the conditional and unconditional eps; learned variance channels come from the
 * conditional output. Composes with classifier guidance (which then sees the mixed eps).
 */
export class ClassifierFreeGuidance implements GuidanceTerm {
  readonly name = 'classifier-free';

  constructor(readonly options: ClassifierFreeGuidanceOptions) {
    if (options.nullLabel === undefined && !options.unconditional) {
      throw new ConfigError('guidance.classifier-free', 'needs "null_label" (a model trained with label dropout) or "model" (a separate unconditional model)');
    }
  }

  wrapDenoiser(denoiser: Denoiser, position: () => StepPosition): Denoiser {
    const { scale, nullLabel, unconditional } = this.options;
    if (unconditional === undefined && denoiser.info.numClasses === undefined) {
      throw new ConfigError('guidance.classifier-free', 'a null label needs a class-conditional model');
    }
    if (nullLabel !== undefined && denoiser.info.numClasses !== undefined && (nullLabel < 0 || nullLabel >= denoiser.info.numClasses)) {
      throw new ConfigError('guidance.classifier-free.null_label', `must be a class index of the model (0..${denoiser.info.numClasses - 1}), got ${nullLabel}`);
    }
    const c = denoiser.info.inChannels;
    /** [cond output, uncond output]: one doubled batch when the same network serves both. */
    const bothOutputs = (x: tf.Tensor4D, t: tf.Tensor1D, cond: Conditioning): [tf.Tensor4D, tf.Tensor4D] => {
      if (unconditional) {
        const u = unconditional.apply(x, t, unconditional.info.numClasses === undefined ? { ...cond, y: undefined } : cond);
        return [denoiser.apply(x, t, cond), u];
      }
      const n = x.shape[0];
      const y = tf.concat([tf.cast(cond.y!, 'int32'), tf.fill([n], nullLabel!, 'int32')]) as tf.Tensor1D;
      const lowRes = cond.lowRes ? (tf.concat([cond.lowRes, cond.lowRes]) as tf.Tensor4D) : undefined;
      const out = denoiser.apply(tf.concat([x, x]) as tf.Tensor4D, tf.concat([t, t]) as tf.Tensor1D, { ...cond, y, lowRes });
      return tf.split(out, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    };
    return {
      info: denoiser.info,
      apply(x, t, cond = {}) {
        const w = scaleAt(scale, position());
        if (w === 0) return denoiser.apply(x, t, cond);
        if (!unconditional && !cond.y) throw new ConfigError('guidance.classifier-free', 'needs the class labels of the run (cond.y)');
        return tf.tidy(() => {
          const [outC, outU] = bothOutputs(x, t, cond);
          const epsC = denoiser.info.learnSigma ? tf.slice(outC, [0, 0, 0, 0], [-1, -1, -1, c]) : outC;
          const epsU = tf.slice(outU, [0, 0, 0, 0], [-1, -1, -1, c]);
          const eps = tf.sub(tf.mul(1 + w, epsC), tf.mul(w, epsU));
          if (!denoiser.info.learnSigma) return eps as tf.Tensor4D;
          return tf.concat([eps, tf.slice(outC, [0, 0, 0, c], [-1, -1, -1, -1])], 3) as tf.Tensor4D;
        });
      },
    };
  }
}
