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
