import * as tf from '@tensorflow/tfjs';

// Likelihood helpers of guided-diffusion's losses.py (after Ho et al.'s diffusion_utils).
// Each follows the reference's float32 operation order: the t = 0 decoder term cancels
// cdf_plus - cdf_min, so a different order shifts it by far more than one rounding.

/** KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) element-wise, in nats (broadcasting). */
export function normalKl(mean1: tf.Tensor, logvar1: tf.Tensor, mean2: tf.Tensor, logvar2: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const diff = tf.sub(mean1, mean2);
    const sum = tf.add(
      tf.add(tf.sub(tf.add(logvar2, -1.0), logvar1), tf.exp(tf.sub(logvar1, logvar2))),
      tf.mul(tf.mul(diff, diff), tf.exp(tf.neg(logvar2))),
    );
    return tf.mul(sum, 0.5);
  });
}

/** The tanh approximation of the standard normal CDF: 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // PyTorch evaluates pow(x, 3) as (x * x) * x.
    const cube = tf.mul(tf.mul(x, x), x);
    const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), Math.sqrt(2.0 / Math.PI));
    return tf.mul(tf.add(saturatingTanh(inner), 1.0), 0.5);
  });
}

/**
 * PyTorch's CPU tanh (SLEEF tanhf u10) returns exactly +-1 for |x| > 8.664339742, where the
 * correctly rounded float32 tanh is still 1 - 2^-24. In the decoder NLL 1 + tanh is then 0
 * (clamped to 1e-12) instead of 2^-25, which moves one pixel's NLL by 10 nats: saturate alike.
 */
export function saturatingTanh(x: tf.Tensor): tf.Tensor {
  // A custom gradient keeps the saturation test (no gradient) off the tape; the backward is
  // PyTorch's tanh backward dy * (1 - y^2), which is 0 where y saturated.
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = inputs[0] as tf.Tensor;
    const save = inputs[1] as tf.GradSaveFunc;
    const y = tf.tidy(() => tf.where(tf.greater(tf.abs(a), TANH_SATURATION), tf.sign(a), tf.tanh(a)));
    save([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(saved[0]))) };
  });
  return f(x);
}

/** SLEEF's float32 tanh saturation threshold (8.664339742f). */
export const TANH_SATURATION = Math.fround(8.664339742);

/**
 * Log-likelihood (nats, element-wise) of images on the uint8 grid rescaled to [-1, 1] under a
 * Gaussian discretised into 256 bins of width 2/255; the edge bins extend to -inf / +inf.
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, means: tf.Tensor, logScales: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const centered = tf.sub(x, means);
    const invStdv = tf.exp(tf.neg(logScales));
    const halfBin = 1.0 / 255.0;
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStdv, tf.add(centered, halfBin)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStdv, tf.sub(centered, halfBin)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1.0, cdfMin), 1e-12));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    return tf.where(tf.less(x, -0.999), logCdfPlus, tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logCdfDelta));
  });
}

/** Mean over every axis but the batch axis, as sum / count (PyTorch's mean order). */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = [...Array(x.rank).keys()].slice(1);
    const count = x.shape.slice(1).reduce((a, b) => a * b, 1);
    return tf.div(tf.sum(x, axes), count) as tf.Tensor1D;
  });
}

/** Identity in the forward pass, zero gradient (PyTorch's .detach()). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}
