import * as tf from '@tensorflow/tfjs';
import { ParameterScope } from '../parameter-scope.js';

/**
 * nn.Linear (weight [out, in]) or a 1x1 nn.Conv1d over tokens (weight [out, in, 1], the
 * attention qkv / proj_out layers): both are a matmul over the last axis here, with the
 * weight stored as [in, out].
 */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { zero?: boolean; layout?: 'linear' | 'conv1d' } = {},
  ) {
    const init = options.zero ? 'zeros' : ParameterScope.uniformFanIn(inFeatures);
    const layout = options.layout ?? 'linear';
    this.weight = scope.add('weight', layout, layout === 'linear' ? [outFeatures, inFeatures] : [outFeatures, inFeatures, 1], init);
    this.bias = scope.add('bias', 'same', [outFeatures], init);
  }

  /** x [..., in] -> [..., out]. */
  apply<T extends tf.Tensor>(x: T): T {
    const flat = x.rank === 2 ? (x as unknown as tf.Tensor2D) : (tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D);
    const y = tf.add(tf.matMul(flat, this.weight as tf.Tensor2D), this.bias);
    return (x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures])) as T;
  }
}
