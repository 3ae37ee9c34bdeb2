import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddon } from './addon.js';
import { NATIVE_BACKEND } from './native-kernel.js';
import { convolutionKernels } from './kernels/convolution.js';
import { matmulKernels } from './kernels/matmul.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { reductionKernels } from './kernels/reduction.js';
import { softmaxKernels } from './kernels/softmax.js';
import { transposeKernels } from './kernels/transpose.js';
import { groupNormGradient, groupNormKernels } from './group-norm.js';

/** The kernels the addon provides; every other kernel of the backend is the cpu backend's. */
export function nativeKernelConfigs(addon: NativeAddon): tf.KernelConfig[] {
  return [
    ...convolutionKernels(addon),
    ...matmulKernels(addon),
    ...elementwiseKernels(addon),
    ...reductionKernels(addon),
    ...softmaxKernels(addon),
    ...transposeKernels(addon),
    ...groupNormKernels(addon),
  ];
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
  tf.registerBackend(NATIVE_BACKEND, () => new MathBackendCPU(), 1);
  const own = nativeKernelConfigs(addon);
  const ownNames = new Set(own.map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!ownNames.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of own) tf.registerKernel(k);
  if (!tf.getGradient(groupNormGradient.kernelName)) tf.registerGradient(groupNormGradient);
  registered = true;
  return addon;
}
