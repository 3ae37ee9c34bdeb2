import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelFuncResult = TensorInfo | TensorInfo[];
export type KernelInputs = Record<string, TensorInfo> | TensorInfo[];

/**
 * Runs other kernels of the same backend inside a kernel function (the way tfjs's own
 * backends compose kernels), and frees every intermediate it made. Kernels are looked up in
 * `overrides` first, so a replacement kernel can call the stock one it replaced.
 */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
    private readonly overrides: ReadonlyMap<string, tf.KernelConfig> = new Map(),
  ) {}

  run(kernelName: string, inputs: KernelInputs, attrs: Record<string, unknown> = {}): TensorInfo {
    const config = this.overrides.get(kernelName) ?? tf.getKernel(kernelName, this.backendName);
    if (!config) throw new Error(`kernel ${kernelName} is not registered for backend ${this.backendName}`);
    const out = config.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as KernelFuncResult;
    const info = Array.isArray(out) ? out[0] : out;
    this.owned.push(info);
    return info;
  }

  /** A float32 scalar on this backend, freed with the scope. */
  scalar(value: number): TensorInfo {
    const b = this.backend as unknown as { makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo };
    const info = b.makeTensorInfo([], 'float32', new Float32Array([value]));
    this.owned.push(info);
    return info;
  }

  /** Free intermediates now (to lower the peak memory of a long kernel). */
  free(...infos: TensorInfo[]): void {
    for (const info of infos) {
      const i = this.owned.lastIndexOf(info);
      if (i < 0) continue;
      this.owned.splice(i, 1);
      this.backend.disposeData(info.dataId);
    }
  }

  /** Hand `info` to the caller: it is not freed by dispose(). */
  keep(info: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/**
 * Run `body` with a fresh scope; its result is kept, every other intermediate freed.
 * `body` may return undefined (a fast path that does not apply).
 */
export function withScope<R extends TensorInfo | undefined>(
  backend: tf.KernelBackend,
  backendName: string,
  overrides: ReadonlyMap<string, tf.KernelConfig>,
  body: (s: KernelScope) => R,
): R {
  const s = new KernelScope(backend, backendName, overrides);
  try {
    const r = body(s);
    if (r) s.keep(r);
    return r;
  } finally {
    s.dispose();
  }
}
