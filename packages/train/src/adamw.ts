import * as tf from '@tensorflow/tfjs';
import { ConfigError, type HostTensor } from '@adm/core';

/** AdamW hyper-parameters, PyTorch's defaults (torch.optim.AdamW). */
export interface AdamWOptions {
  lr: number;
  /** Decoupled weight decay (PyTorch default 0.01; guided-diffusion passes 0.0 for the denoiser). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Optimizer state as host tensors (internal layout) plus the step count. */
export interface AdamWState {
  step: number;
  expAvg: Map<string, HostTensor>;
  expAvgSq: Map<string, HostTensor>;
}

/**
 * torch.optim.AdamW (amsgrad off, single-tensor loop) re-stated in float32 in PyTorch's
 * operation order, so a step reproduces PyTorch bit for bit on an IEEE float32 backend:
 *   p *= 1 - lr*wd; m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g*g;
 *   denom = sqrt(v) / sqrt(1 - beta2^step) + eps; p += (-(lr / (1 - beta1^step)) * m) / denom.
 * Scalars are computed in double (as Python floats) and meet the tensors as float32.
 * Parameters without a gradient in a step are skipped, as PyTorch skips p.grad None.
 */
export class AdamW {
  lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Number of steps taken (PyTorch's state['step'], shared by every parameter here). */
  stepCount = 0;
  private readonly expAvg = new Map<string, tf.Variable>();
  private readonly expAvgSq = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    opts: AdamWOptions,
  ) {
    this.lr = opts.lr;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    if (!(this.lr >= 0)) throw new ConfigError('lr', `must be a non-negative number, got ${opts.lr}`);
    if (!(this.weightDecay >= 0)) throw new ConfigError('weight_decay', `must be a non-negative number, got ${opts.weightDecay}`);
  }

  /** One optimizer step with `grads` (name -> gradient, same shape as the parameter). */
  step(grads: Map<string, tf.Tensor>): void {
    this.stepCount += 1;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2 = 1 - this.beta2 ** this.stepCount;
    const stepSize = this.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      if (g.size !== p.size) throw new ConfigError(`grad.${name}`, `has ${g.size} values, the parameter ${p.size}`);
      let m = this.expAvg.get(name);
      let v = this.expAvgSq.get(name);
      if (!m || !v) {
        m = tf.variable(tf.zerosLike(p), false);
        v = tf.variable(tf.zerosLike(p), false);
        this.expAvg.set(name, m);
        this.expAvgSq.set(name, v);
      }
      const mv = m;
      const vv = v;
      tf.tidy(() => {
        const pDecayed = this.weightDecay !== 0 ? tf.mul(p, 1 - this.lr * this.weightDecay) : p;
        const mNew = tf.add(tf.mul(mv, this.beta1), tf.mul(g, 1 - this.beta1));
        // addcmul_(g, g, value): value * g * g evaluated left to right.
        const vNew = tf.add(tf.mul(vv, this.beta2), tf.mul(tf.mul(g, 1 - this.beta2), g));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
        const pNew = tf.add(pDecayed, tf.div(tf.mul(mNew, -stepSize), denom));
        mv.assign(mNew);
        vv.assign(vNew);
        p.assign(pNew);
      });
    }
  }

  /** Copy of the state (for checkpoints). */
  getState(): AdamWState {
    const dump = (src: Map<string, tf.Variable>) => {
      const out = new Map<string, HostTensor>();
      for (const [k, t] of src) out.set(k, { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array });
      return out;
    };
    return { step: this.stepCount, expAvg: dump(this.expAvg), expAvgSq: dump(this.expAvgSq) };
  }

  /** Restore a state saved by getState (same parameter names and shapes). */
  setState(state: AdamWState): void {
    this.disposeState();
    this.stepCount = state.step;
    for (const [src, dst, label] of [
      [state.expAvg, this.expAvg, 'exp_avg'],
      [state.expAvgSq, this.expAvgSq, 'exp_avg_sq'],
    ] as const) {
      for (const [name, h] of src) {
        const p = this.params.get(name);
        if (!p) throw new ConfigError(`optimizer.${label}.${name}`, 'names no parameter of the model');
        if (h.data.length !== p.size) throw new ConfigError(`optimizer.${label}.${name}`, `has ${h.data.length} values, the parameter ${p.size}`);
        dst.set(name, tf.variable(tf.tensor(h.data as Float32Array, p.shape, 'float32'), false));
      }
    }
  }

  private disposeState(): void {
    for (const t of this.expAvg.values()) t.dispose();
    for (const t of this.expAvgSq.values()) t.dispose();
    this.expAvg.clear();
    this.expAvgSq.clear();
  }

  dispose(): void {
    this.disposeState();
  }
}
