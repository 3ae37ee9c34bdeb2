import { totalmem } from 'node:os';

/**
 * Output buffers of native kernels, reused once their tensor is disposed.
 *
 * In the VMs measured here a fresh 8 MB Float32Array costs 10-18 ms of page faults, ten
 * times the elementwise kernel that fills it; PyTorch's allocator hands freed blocks back
 * at once. The cpu backend stores a tensor's array without copying and `dataSync()` returns
 * that same array, so a buffer may be reused only if nothing else can hold it: a buffer is
 * pinned (never reused) as soon as it is read out (readSync/read), stored under a second
 * tensor or as a view (e.g. a cpu-backend slice returns a subarray), and otherwise goes back
 * to the pool when its tensor's data is disposed.
 */
export class OutputPool {
  /** State of each buffer the pool handed out. */
  private readonly state = new WeakMap<ArrayBuffer, 'fresh' | 'live' | 'pinned'>();
  private readonly free = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  takes = 0;
  reuses = 0;

  /**
   * capBytes: how much the pool may hold. A training step's peak (every activation kept for
   * the backward pass) is released at its end and needed again by the next step, so the
   * default is generous: a quarter of the machine's memory, at most 8 GiB.
   */
  constructor(private readonly capBytes = Math.min(totalmem() / 4, 8 * 2 ** 30)) {}

  /** An array of n floats for a kernel to fill (contents undefined). */
  take(n: number): Float32Array {
    this.takes++;
    const list = this.free.get(n);
    const reused = list?.pop();
    if (reused) {
      this.reuses++;
      this.pooledBytes -= reused.byteLength;
      this.state.set(reused.buffer as ArrayBuffer, 'fresh');
      return reused;
    }
    const a = new Float32Array(n);
    this.state.set(a.buffer as ArrayBuffer, 'fresh');
    return a;
  }

  /** A backend stored `values` under a new tensor: the first time it is ours to track; any other time it is shared. */
  stored(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buf = values.buffer as ArrayBuffer;
    const s = this.state.get(buf);
    if (s === undefined) return;
    const whole = values.byteOffset === 0 && values.byteLength === buf.byteLength;
    this.state.set(buf, s === 'fresh' && whole ? 'live' : 'pinned');
  }

  /** `values` left the backend (read by the user, moved to another backend): never reuse it. */
  pin(values: unknown): void {
    if (values instanceof Float32Array && this.state.has(values.buffer as ArrayBuffer)) this.state.set(values.buffer as ArrayBuffer, 'pinned');
  }

  /** The tensor holding `values` was disposed: reuse the buffer if nothing else can see it. */
  released(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buf = values.buffer as ArrayBuffer;
    if (this.state.get(buf) !== 'live') return;
    this.state.delete(buf);
    if (this.pooledBytes + buf.byteLength > this.capBytes) return;
    let list = this.free.get(values.length);
    if (!list) this.free.set(values.length, (list = []));
    list.push(values);
    this.pooledBytes += buf.byteLength;
  }

  /** Drop every pooled buffer (for the garbage collector). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  stats() {
    return { pooledBytes: this.pooledBytes, takes: this.takes, reuses: this.reuses };
  }
}
