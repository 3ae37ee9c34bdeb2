import * as tf from '@tensorflow/tfjs';
import { ConfigError, type HostTensor } from '@adm/core';

/**
 * Exponential moving averages of the parameters, one copy per rate (guided-diffusion's
 * ema_rate list, e.g. "0.9999"): ema = ema * rate + param * (1 - rate) (update_ema).
 * PyTorch's CPU add may fuse the second product and the sum into one FMA; here the
 * product is rounded first, so a value may differ from PyTorch's by 1 float32 ulp.
 */
export class EmaParams {
  readonly shadows = new Map<number, Map<string, tf.Variable>>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    readonly rates: readonly number[],
  ) {
    for (const r of rates) {
      if (!(r >= 0 && r <= 1)) throw new ConfigError('ema_rate', `rates must lie in [0, 1], got ${r}`);
      const copy = new Map<string, tf.Variable>();
      // A copy of the parameters as they are now (TrainLoop.__init__ deep-copies them).
      for (const [name, p] of params) copy.set(name, tf.variable(p.clone(), false));
      this.shadows.set(r, copy);
    }
  }

  update(): void {
    for (const [rate, copy] of this.shadows) {
      for (const [name, p] of this.params) {
        const e = copy.get(name)!;
        tf.tidy(() => {
          e.assign(tf.add(tf.mul(e, rate), tf.mul(p, 1 - rate)));
        });
      }
    }
  }

  /** The averaged parameters for one rate. */
  get(rate: number): Map<string, tf.Variable> {
    const s = this.shadows.get(rate);
    if (!s) throw new ConfigError('ema_rate', `no EMA kept for rate ${rate} (kept: ${this.rates.join(', ')})`);
    return s;
  }

  getState(): Map<number, Map<string, HostTensor>> {
    const out = new Map<number, Map<string, HostTensor>>();
    for (const [rate, copy] of this.shadows) {
      const m = new Map<string, HostTensor>();
      for (const [k, t] of copy) m.set(k, { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array });
      out.set(rate, m);
    }
    return out;
  }

  setState(state: Map<number, Map<string, HostTensor>>): void {
    for (const [rate, copy] of this.shadows) {
      const saved = state.get(rate);
      if (!saved) throw new ConfigError('ema_rate', `the checkpoint keeps no EMA for rate ${rate}`);
      for (const [name, e] of copy) {
        const h = saved.get(name);
        if (!h) throw new ConfigError(`ema.${rate}.${name}`, 'missing from the checkpoint');
        if (h.data.length !== e.size) throw new ConfigError(`ema.${rate}.${name}`, `has ${h.data.length} values, the parameter ${e.size}`);
        e.assign(tf.tensor(h.data as Float32Array, e.shape, 'float32'));
      }
    }
  }

  dispose(): void {
    for (const copy of this.shadows.values()) for (const t of copy.values()) t.dispose();
    this.shadows.clear();
  }
}

/** Parse guided-diffusion's ema_rate flag ("0.9999" or "0.999,0.9999") into numbers. */
export function parseEmaRates(spec: string | number | readonly number[]): number[] {
  if (typeof spec === 'number') return [spec];
  if (Array.isArray(spec)) return [...spec];
  const s = String(spec).trim();
  if (!s) return [];
  return s.split(',').map((x) => {
    const r = Number(x.trim());
    if (!Number.isFinite(r)) throw new ConfigError('ema_rate', `"${x}" is not a number (expected e.g. "0.9999" or "0.999,0.9999")`);
    return r;
  });
}
