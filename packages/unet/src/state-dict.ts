import * as tf from '@tensorflow/tfjs';
import { TensorFileError, toFloat32, type HostTensor } from '@adm/core';
import { internalShape, internalToTorch, torchToInternal, type ParameterEntry } from './parameter-scope.js';

/** A network whose parameters carry their PyTorch layouts. */
export interface HasParameterEntries {
  parameterEntries(): Map<string, ParameterEntry>;
}

export interface LoadStateDictOptions {
  /** Every model parameter must be present and nothing else (PyTorch's strict=True). Default true. */
  strict?: boolean;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listed(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Load guided-diffusion state_dict tensors (PyTorch layouts, names without any prefix)
 * into a model. Errors name every missing, unexpected or mis-shaped parameter; nothing
 * is assigned unless the whole set checks out.
 */
export function loadStateDict(model: HasParameterEntries, tensors: Map<string, HostTensor>, source: string, options: LoadStateDictOptions = {}): void {
  const strict = options.strict ?? true;
  const entries = model.parameterEntries();
  const missing = [...entries.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !entries.has(k));
  const misShaped: string[] = [];
  const notFloat: string[] = [];
  for (const [name, e] of entries) {
    const t = tensors.get(name);
    if (!t) continue;
    if (!sameShape(t.shape, e.torchShape)) misShaped.push(`${name}: file has [${t.shape.join(', ')}], model expects [${e.torchShape.join(', ')}]`);
    else if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) notFloat.push(`${name}: dtype ${t.dtype}`);
  }
  const problems: string[] = [];
  if (strict && missing.length) problems.push(`missing parameters: ${listed(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected parameters: ${listed(unexpected)}`);
  if (misShaped.length) problems.push(`mis-shaped parameters: ${listed(misShaped)}`);
  if (notFloat.length) problems.push(`parameters that are not floating point: ${listed(notFloat)}`);
  if (problems.length) throw new TensorFileError(source, `state_dict does not fit the model (${problems.join('; ')})`);
  for (const [name, e] of entries) {
    const t = tensors.get(name);
    if (!t) continue;
    const values = toFloat32(t);
    const internal = torchToInternal(e.layout, e.torchShape, values);
    tf.tidy(() => e.variable.assign(tf.tensor(internal, internalShape(e.layout, e.torchShape), 'float32')));
  }
}

/** The model's parameters as a state_dict: guided-diffusion names, PyTorch layouts, F32. */
export function stateDict(model: HasParameterEntries): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, e] of model.parameterEntries()) {
    const data = internalToTorch(e.layout, e.torchShape, new Float32Array(e.variable.dataSync() as Float32Array));
    out.set(name, { dtype: 'F32', shape: [...e.torchShape], data });
  }
  return out;
}
