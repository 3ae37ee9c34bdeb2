import { ConfigError, type GuidanceScale, type StepPosition } from '@adm/core';

/**
 * A scale from JSON: a number; {"from": a, "to": b, "schedule": "linear" | "cosine"}
 * (a at the noisiest step, b at the last); or an array with one value per step.
 */
export function parseGuidanceScale(value: unknown, field: string): GuidanceScale {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError(field, `must be a finite number, got ${value}`);
    return value;
  }
  if (Array.isArray(value)) {
    if (!value.length || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ConfigError(field, 'a per-step scale must be a non-empty array of finite numbers');
    }
    const list = value as number[];
    return (p: StepPosition) => {
      if (list.length !== p.numSteps) throw new ConfigError(field, `has ${list.length} values but the run has ${p.numSteps} steps`);
      return list[p.step];
    };
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const { from, to } = o;
    const schedule = o.schedule ?? 'linear';
    if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to)) {
      throw new ConfigError(field, `a scheduled scale needs numbers "from" and "to", got ${JSON.stringify(value)}`);
    }
    for (const k of Object.keys(o)) {
      if (!['from', 'to', 'schedule'].includes(k)) throw new ConfigError(`${field}.${k}`, 'unknown key (known: from, to, schedule)');
    }
    if (schedule !== 'linear' && schedule !== 'cosine') {
      throw new ConfigError(`${field}.schedule`, `must be "linear" or "cosine", got ${JSON.stringify(schedule)}`);
    }
    return (p: StepPosition) => {
      const u = p.numSteps > 1 ? p.step / (p.numSteps - 1) : 0;
      const w = schedule === 'linear' ? u : 0.5 - 0.5 * Math.cos(Math.PI * u);
      return from + (to - from) * w;
    };
  }
  throw new ConfigError(field, `must be a number, {"from", "to", "schedule"} or an array, got ${JSON.stringify(value)}`);
}
