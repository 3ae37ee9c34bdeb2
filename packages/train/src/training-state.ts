import * as tf from '@tensorflow/tfjs';
import { ConfigError, type HostTensor } from '@adm/core';
import type { AdamW } from './adamw.js';
import type { EmaParams } from './ema.js';
import type { TimestepSampler } from './timestep-sampler.js';

/**
 * Flat tensor naming of a training checkpoint: `param.<name>`, `ema.<rate>.<name>`,
 * `adam.exp_avg.<name>`, `adam.exp_avg_sq.<name>`, `sampler.<field>` (internal layouts:
 * a checkpoint is read back by the same code, model folders are the portable export).
 */
export function packTrainingState(params: Map<string, tf.Variable>, opt: AdamW, ema?: EmaParams, sampler?: TimestepSampler): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, p] of params) out.set(`param.${name}`, { dtype: 'F32', shape: [...p.shape], data: p.dataSync() as Float32Array });
  if (ema) for (const [rate, m] of ema.getState()) for (const [name, h] of m) out.set(`ema.${rate}.${name}`, h);
  const st = opt.getState();
  for (const [name, h] of st.expAvg) out.set(`adam.exp_avg.${name}`, h);
  for (const [name, h] of st.expAvgSq) out.set(`adam.exp_avg_sq.${name}`, h);
  if (sampler) for (const [k, h] of sampler.getState()) out.set(`sampler.${k}`, h);
  return out;
}

export function unpackTrainingState(
  file: string,
  tensors: Map<string, HostTensor>,
  adamStep: number,
  params: Map<string, tf.Variable>,
  opt: AdamW,
  ema?: EmaParams,
  sampler?: TimestepSampler,
): void {
  const prefixed = (prefix: string) => {
    const m = new Map<string, HostTensor>();
    for (const [k, h] of tensors) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), h);
    return m;
  };
  const saved = prefixed('param.');
  for (const [name, p] of params) {
    const h = saved.get(name);
    if (!h) throw new ConfigError(file, `holds no parameter "${name}" (is it a checkpoint of this model?)`);
    if (h.data.length !== p.size) throw new ConfigError(`${file}: param.${name}`, `has ${h.data.length} values, the model's parameter ${p.size} ([${p.shape.join(', ')}])`);
    p.assign(tf.tensor(h.data as Float32Array, p.shape, 'float32'));
  }
  for (const name of saved.keys()) if (!params.has(name)) throw new ConfigError(file, `parameter "${name}" is not in the model`);
  if (ema) {
    const state = new Map<number, Map<string, HostTensor>>();
    for (const rate of ema.rates) state.set(rate, prefixed(`ema.${rate}.`));
    ema.setState(state);
  }
  opt.setState({ step: adamStep, expAvg: prefixed('adam.exp_avg.'), expAvgSq: prefixed('adam.exp_avg_sq.') });
  if (sampler) {
    const s = prefixed('sampler.');
    if (s.size) sampler.setState(s);
  }
}
