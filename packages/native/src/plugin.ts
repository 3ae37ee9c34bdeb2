import * as tf from '@tensorflow/tfjs';
import { registerBackendPlugin, type BackendPlugin } from '@adm/core';
import { addonPath, loadAddon } from './addon.js';
import { NATIVE_BACKEND } from './native-kernel.js';
import { registerNativeBackend } from './native-backend.js';

/** oneDNN ISA codes (dnnl::cpu_isa) worth naming in `adm info`. */
const ISA: Record<number, string> = { 0x1: 'sse41', 0x3: 'avx', 0x7: 'avx2', 0x27: 'avx512_core', 0x67: 'avx512_core_vnni', 0xe7: 'avx512_core_bf16' };

/** The `native` backend plugin: preferred over wasm (10) and cpu (0) when the addon loads. */
export const nativeBackendPlugin: BackendPlugin = {
  name: NATIVE_BACKEND,
  priority: 20,
  async available() {
    const addon = loadAddon();
    return typeof addon === 'string' ? addon : true;
  },
  async activate() {
    registerNativeBackend();
    if (!(await tf.setBackend(NATIVE_BACKEND))) throw new Error('tfjs could not initialise the native backend');
    await tf.ready();
  },
  async describe(): Promise<Record<string, string>> {
    const addon = loadAddon();
    if (typeof addon === 'string') return { status: addon };
    const i = addon.info();
    return {
      kernels: 'oneDNN convolutions and matmul; OpenMP elementwise, reductions, softmax, transpose, slice/split/concat/pad, fused GroupNorm(+SiLU) and SiLU; cpu backend for the rest',
      onednn: `${i.onednn} (${i.cpuRuntime})`,
      isa: ISA[i.isa] ?? `0x${i.isa.toString(16)}`,
      threads: String(i.threads),
      addon: addonPath() ?? '',
    };
  },
};

registerBackendPlugin(nativeBackendPlugin);
