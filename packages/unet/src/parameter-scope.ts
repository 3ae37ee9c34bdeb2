import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '@adm/core';

/**
 * How a parameter is stored by PyTorch relative to the layout used here (NHWC
 * activations): conv2d OIHW <-> HWIO, conv1d [O, I, 1] and linear [O, I] <-> [I, O]
 * (matmul weights), transpose [A, B] <-> [B, A], same = identical.
 */
export type TorchLayout = 'conv2d' | 'conv1d' | 'linear' | 'transpose' | 'same';

/** One named parameter: the variable (internal layout) and its PyTorch shape. */
export interface ParameterEntry {
  variable: tf.Variable;
  layout: TorchLayout;
  torchShape: number[];
}

/** How fresh parameters are filled: PyTorch's default init (seeded) or zeros (before a load). */
export interface InitOptions {
  /** 'random' (default): PyTorch's default initialisation with zero_module() convs; 'zeros': all zeros (fast, for loading). */
  init?: 'random' | 'zeros';
  /** Seed of the random initialisation (default 0). */
  seed?: number;
}

/** The internal shape of a parameter whose PyTorch shape is `torchShape`. */
export function internalShape(layout: TorchLayout, torchShape: readonly number[]): number[] {
  switch (layout) {
    case 'conv2d':
      return [torchShape[2], torchShape[3], torchShape[1], torchShape[0]];
    case 'conv1d':
    case 'linear':
    case 'transpose':
      return [torchShape[1], torchShape[0]];
    case 'same':
      return [...torchShape];
  }
}

/** Permute a row-major array: out has dims shape[perm[i]]. */
export function permuteHost(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const out = new Float32Array(data.length);
  const stridesOut = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    // increment the multi-index over outShape, tracking the source offset
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += stridesOut[d];
      if (idx[d] < outShape[d]) break;
      src -= stridesOut[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** PyTorch-layout values -> internal-layout values. */
export function torchToInternal(layout: TorchLayout, torchShape: readonly number[], data: Float32Array): Float32Array {
  switch (layout) {
    case 'conv2d':
      return permuteHost(data, torchShape, [2, 3, 1, 0]);
    case 'conv1d':
    case 'linear':
    case 'transpose':
      return permuteHost(data, [torchShape[0], torchShape[1]], [1, 0]);
    case 'same':
      return data;
  }
}

/** Internal-layout values -> PyTorch-layout values. */
export function internalToTorch(layout: TorchLayout, torchShape: readonly number[], data: Float32Array): Float32Array {
  switch (layout) {
    case 'conv2d':
      return permuteHost(data, internalShape(layout, torchShape), [3, 2, 0, 1]);
    case 'conv1d':
    case 'linear':
    case 'transpose':
      return permuteHost(data, [torchShape[1], torchShape[0]], [1, 0]);
    case 'same':
      return data;
  }
}

/**
 * Creates parameters under guided-diffusion's state_dict names (a dotted prefix per
 * module) and records them in one registry per network.
 */
export class ParameterScope {
  private constructor(
    readonly registry: Map<string, ParameterEntry>,
    readonly prefix: string,
    private readonly rng: SeededRandom | undefined,
  ) {}

  static root(options: InitOptions = {}): ParameterScope {
    const rng = (options.init ?? 'random') === 'random' ? new SeededRandom(options.seed ?? 0) : undefined;
    return new ParameterScope(new Map(), '', rng);
  }

  child(name: string | number): ParameterScope {
    return new ParameterScope(this.registry, this.name(String(name)), this.rng);
  }

  name(leaf: string): string {
    return this.prefix ? `${this.prefix}.${leaf}` : leaf;
  }

  /** A parameter filled by `fill(rng, size)` (torch layout) or zeros. */
  add(leaf: string, layout: TorchLayout, torchShape: number[], fill: 'zeros' | 'ones' | ((rng: SeededRandom, size: number) => Float32Array)): tf.Variable {
    const name = this.name(leaf);
    if (this.registry.has(name)) throw new Error(`parameter ${name} defined twice`);
    const shape = internalShape(layout, torchShape);
    let size = 1;
    for (const d of shape) size *= d;
    let values: Float32Array;
    if (fill === 'ones') values = new Float32Array(size).fill(1);
    else if (fill === 'zeros' || !this.rng) values = new Float32Array(size);
    else values = torchToInternal(layout, torchShape, fill(this.rng, size));
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, true);
    // the variable shares the data; dropping the initial handle lets a later assign() free it
    initial.dispose();
    this.registry.set(name, { variable, layout, torchShape });
    return variable;
  }

  /** U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default Conv/Linear weight and bias init. */
  static uniformFanIn(fanIn: number) {
    const bound = 1 / Math.sqrt(fanIn);
    return (rng: SeededRandom, size: number) => {
      const u = rng.uniform(size);
      for (let i = 0; i < size; i++) u[i] = (2 * u[i] - 1) * bound;
      return u;
    };
  }

  static normal(std: number) {
    return (rng: SeededRandom, size: number) => {
      const u = rng.normal(size);
      if (std !== 1) for (let i = 0; i < size; i++) u[i] *= std;
      return u;
    };
  }
}
