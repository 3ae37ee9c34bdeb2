import * as tf from '@tensorflow/tfjs';
import { ParameterScope } from '../parameter-scope.js';

/**
 * nn.Conv2d with PyTorch's symmetric zero padding (k // 2), NHWC activations and HWIO
 * kernels (OIHW in PyTorch). Explicit padding matters for stride 2, where TF's 'same'
 * pads only after and would sample different pixels than PyTorch.
 */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  private readonly pad: number;

  constructor(
    scope: ParameterScope,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: { stride?: number; zero?: boolean } = {},
  ) {
    const init = options.zero ? 'zeros' : ParameterScope.uniformFanIn(inChannels * kernelSize * kernelSize);
    this.weight = scope.add('weight', 'conv2d', [outChannels, inChannels, kernelSize, kernelSize], init);
    this.bias = scope.add('bias', 'same', [outChannels], init);
    this.stride = options.stride ?? 1;
    this.pad = Math.floor(kernelSize / 2);
  }

  readonly stride: number;

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (this.kernelSize === 1 && this.stride === 1) {
      // A 1x1 conv is a matmul over channels.
      const [n, h, w, c] = x.shape;
      const y = tf.add(tf.matMul(tf.reshape(x, [n * h * w, c]), tf.reshape(this.weight, [c, this.outChannels])), this.bias);
      return tf.reshape(y, [n, h, w, this.outChannels]);
    }
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [this.pad, this.pad],
      [this.pad, this.pad],
      [0, 0],
    ];
    return tf.fused.conv2d({ x, filter: this.weight as tf.Tensor4D, strides: this.stride, pad: this.pad === 0 ? 'valid' : pad, bias: this.bias });
  }
}
