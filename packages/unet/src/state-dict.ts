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

/** What checkStateDict needs of a tensor: its dtype, shape and (when read) its values. */
export interface TensorShapeInfo {
  dtype: string;
  shape: readonly number[];
  data?: { length: number };
}

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

/**
 * Check state_dict tensors against the parameters a model has (name -> PyTorch shape)
 * without touching the model: missing, unexpected (strict) and mis-shaped names, dtypes
 * that are not floating point, values that do not fill their shape. The TensorFileError
 * names the file, the first offending tensor, and lists the others.
 */
export function checkStateDict(expected: ReadonlyMap<string, readonly number[]>, tensors: ReadonlyMap<string, TensorShapeInfo>, source: string, options: LoadStateDictOptions = {}): void {
  const strict = options.strict ?? true;
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
  const misShaped: string[] = [];
  const notFloat: string[] = [];
  const first: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) continue;
    if (!sameShape(t.shape, shape)) misShaped.push(`${name}: file has [${t.shape.slice(0, 8).join(', ')}], model expects [${shape.join(', ')}]`);
    else if (!FLOAT_DTYPES.includes(t.dtype)) notFloat.push(`${name}: dtype ${String(t.dtype).slice(0, 16)}`);
    else if (t.data && t.data.length !== shape.reduce((a, b) => a * b, 1)) misShaped.push(`${name}: ${t.data.length} values for shape [${shape.join(', ')}]`);
    else continue;
    first.push(name);
  }
  const problems: string[] = [];
  if (strict && missing.length) problems.push(`missing parameters: ${listed(missing)}`);
  if (strict && unexpected.length) problems.push(`unexpected parameters: ${listed(unexpected.map((n) => (n.length > 80 ? `${n.slice(0, 80)}...` : n)))}`);
  if (misShaped.length) problems.push(`mis-shaped parameters: ${listed(misShaped)}`);
  if (notFloat.length) problems.push(`parameters that are not floating point: ${listed(notFloat)}`);
  if (!problems.length) return;
  const culprit = first[0] ?? (strict ? (missing[0] ?? unexpected[0]) : undefined);
  throw new TensorFileError(source, `state_dict does not fit the model (${problems.join('; ')})`, culprit !== undefined && culprit.length > 80 ? `${culprit.slice(0, 80)}...` : culprit);
}

/**
 * Load guided-diffusion state_dict tensors (PyTorch layouts, names without any prefix)
 * into a model. Errors name every missing, unexpected or mis-shaped parameter; nothing
 * is assigned unless the whole set checks out.
 */
export function loadStateDict(model: HasParameterEntries, tensors: Map<string, HostTensor>, source: string, options: LoadStateDictOptions = {}): void {
  const entries = model.parameterEntries();
  checkStateDict(new Map([...entries].map(([k, e]) => [k, e.torchShape])), tensors, source, options);
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
