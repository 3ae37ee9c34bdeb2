import { ConfigError } from '@adm/core';

const FIELD = 'timestep_respacing';

/**
 * Which original steps a respaced schedule keeps (guided-diffusion's space_timesteps),
 * ascending. `spec` is "ddimN" (the DDIM paper's fixed stride giving exactly N steps),
 * comma-separated step counts per equal section ("250", "10,15,20"), a list of counts,
 * or "" (every step).
 */
export function spaceTimesteps(numTimesteps: number, spec: string | readonly number[]): number[] {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new ConfigError('steps', `expected a positive integer number of steps, got ${numTimesteps}`);
  }
  let counts: number[];
  if (typeof spec === 'string') {
    const s = spec.trim();
    if (s === '') return range(0, numTimesteps, 1);
    if (s.startsWith('ddim')) return ddimTimesteps(numTimesteps, s, parseCount(s.slice(4), spec));
    counts = s.split(',').map((part) => parseCount(part, spec));
  } else {
    counts = spec.map((c) => {
      if (!Number.isInteger(c) || c < 0) throw new ConfigError(FIELD, `section counts must be non-negative integers, got [${spec.join(', ')}]`);
      return c;
    });
    if (counts.length === 0) throw new ConfigError(FIELD, 'an empty list of section counts keeps no steps');
  }
  const sizePer = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  let startIdx = 0;
  const steps: number[] = [];
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) {
      throw new ConfigError(
        FIELD,
        `"${String(spec)}": section ${i} of ${numTimesteps} steps cut into ${counts.length} sections has ${size} steps, cannot take ${count} from it`,
      );
    }
    const fracStride = count <= 1 ? 1 : (size - 1) / (count - 1);
    // Accumulated (not k * stride) and rounded half to even, as Python's round() does.
    let cur = 0;
    for (let k = 0; k < count; k++) {
      steps.push(startIdx + roundHalfEven(cur));
      cur += fracStride;
    }
    startIdx += size;
  });
  const kept = [...new Set(steps)].sort((a, b) => a - b);
  if (kept.length === 0) throw new ConfigError(FIELD, `"${String(spec)}" keeps no steps`);
  return kept;
}

function ddimTimesteps(numTimesteps: number, spec: string, desired: number): number[] {
  for (let stride = 1; stride < numTimesteps; stride++) {
    if (Math.ceil(numTimesteps / stride) === desired) return range(0, numTimesteps, stride);
  }
  const possible = new Set<number>();
  for (let stride = 1; stride < numTimesteps; stride++) possible.add(Math.ceil(numTimesteps / stride));
  const near = [...possible].sort((a, b) => Math.abs(a - desired) - Math.abs(b - desired) || a - b).slice(0, 2).sort((a, b) => a - b);
  throw new ConfigError(
    FIELD,
    `"${spec}": no integer stride takes exactly ${desired} of ${numTimesteps} steps (nearest possible: ${near.map((n) => `ddim${n}`).join(', ')})`,
  );
}

/** A section count as Python's int() reads it (surrounding spaces and a leading + allowed). */
function parseCount(text: string, spec: string): number {
  const t = text.trim();
  if (!/^\+?\d+$/.test(t)) {
    throw new ConfigError(FIELD, `"${spec}": "${text}" is not a step count; expected "ddimN", counts like "250" or "10,15,20", or "" for all steps`);
  }
  return Number.parseInt(t, 10);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function range(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}
