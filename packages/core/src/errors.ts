/** Base class of every error the toolkit raises on bad input: it names where (file, tensor, field, flag). */
export class AdmError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tensor file (safetensors, .pt, .npz, .npy) that cannot be read as what it claims to be. */
export class TensorFileError extends AdmError {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly tensor?: string,
  ) {
    super(`${file}${tensor !== undefined ? ` (tensor "${tensor}")` : ''}: ${detail}`);
  }
}

/** A configuration value (pipeline JSON, model config, CLI flag) that is missing or out of range. */
export class ConfigError extends AdmError {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** A tensor whose shape does not match what a model or function expects. */
export class ShapeError extends AdmError {}

/**
 * A value from a file, described for an error message in bounded time and length: never a
 * recursive JSON.stringify of what the file holds (10,000 nested arrays overflow the stack).
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}... (${v.length} characters)` : JSON.stringify(v);
  if (typeof v === 'bigint') return `${String(v).slice(0, 40)}n`;
  if (Array.isArray(v)) {
    const flat = v.length <= 8 && v.every((x) => x === null || ['number', 'boolean', 'string'].includes(typeof x));
    return flat ? `[${v.map(describeValue).join(', ')}]` : `an array of ${v.length} items${v.some((x) => typeof x === 'object' && x !== null) ? ' (nested)' : ''}`;
  }
  if (typeof v === 'object') return `an object with ${Object.keys(v).length} keys`;
  return `a ${typeof v}`;
}
