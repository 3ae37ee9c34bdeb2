// @adm/native: the TensorFlow.js backend `native` (the cpu backend with oneDNN/OpenMP
// kernels from an optional N-API addon). Importing this entry registers the backend plugin
// with @adm/core, so `useBackend('native')` and `--backend native` find it.
export { nativeBackendPlugin } from './plugin.js';
export { registerNativeBackend, nativeKernelConfigs } from './native-backend.js';
export { loadAddon, addonPath, addonCandidates, type NativeAddon, type AddonCandidate } from './addon.js';
export { NATIVE_BACKEND } from './native-kernel.js';
export { groupNorm, GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, type GroupNormAttrs } from './group-norm.js';
export { silu, SILU_KERNEL, SILU_GRAD_KERNEL } from './silu.js';
