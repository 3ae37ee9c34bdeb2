import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { registerGroupNormGradient } from '@adm/core';
import { loadAddon, type NativeAddon } from './addon.js';
import { OutputPool } from './output-pool.js';
import { NATIVE_BACKEND } from './native-kernel.js';
import { convolutionKernels } from './kernels/convolution.js';
import { matmulKernels } from './kernels/matmul.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { reductionKernels } from './kernels/reduction.js';
import { softmaxKernels } from './kernels/softmax.js';
import { transposeKernels } from './kernels/transpose.js';
import { sliceConcatKernels } from './kernels/slice-concat.js';
import { groupNormKernels } from './group-norm.js';
import { siluGradient, siluKernels } from './silu.js';

/** The kernels the addon provides; every other kernel of the backend is the cpu backend's. */
export function nativeKernelConfigs(addon: NativeAddon): tf.KernelConfig[] {
  return [
    ...convolutionKernels(addon),
    ...matmulKernels(addon),
    ...elementwiseKernels(addon),
    ...reductionKernels(addon),
    ...softmaxKernels(addon),
    ...transposeKernels(addon),
    ...sliceConcatKernels(addon),
    ...groupNormKernels(addon),
    ...siluKernels(addon),
  ];
}

/** The cpu backend, with output buffers recycled through an OutputPool (see output-pool.ts for when that is safe). */
export class NativeBackend extends MathBackendCPU {
  readonly outputs = new OutputPool();

  constructor() {
    super();
    // MathBackendCPU's first write prints tfjs's "install our node backend" banner under
    // Node; that advice is wrong for this backend, so mark the first use as done.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    this.outputs.stored(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.outputs.pin(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    this.outputs.pin(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }

  override read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    this.outputs.pin(this.data.get(dataId)?.values);
    return super.read(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const gone = super.disposeData(dataId, force);
    if (gone) this.outputs.released(values);
    return gone;
  }

  override dispose(): void {
    this.outputs.clear();
    super.dispose();
  }
}

let registered = false;

/**
 * Register the tfjs backend `native`: a cpu backend (same tensor storage, same JavaScript
 * kernels) whose hot kernels run in the addon on the stored Float32Arrays without copies.
 * A separate name keeps the stock `cpu` backend intact, so both can run in one process
 * (the kernel tests compare them) and reports say which one ran.
 */
export function registerNativeBackend(): NativeAddon {
  const addon = loadAddon();
  if (typeof addon === 'string') throw new Error(addon);
  if (registered) return addon;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 1);
  const own = nativeKernelConfigs(addon);
  const ownNames = new Set(own.map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!ownNames.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of own) tf.registerKernel(k);
  registerGroupNormGradient();
  if (!tf.getGradient(siluGradient.kernelName)) tf.registerGradient(siluGradient);
  registered = true;
  return addon;
}
