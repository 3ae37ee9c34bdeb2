import { TensorFileError } from '../../errors.js';
import { DTYPE_BYTES, shapeSize, typedFromBytes, type DType, type HostTensor, type TypedArray } from '../dtypes.js';
import { PickleTuple, type AllowedGlobal } from './restricted-unpickler.js';

/**
 * What both torch.save formats (zip and legacy) share: the storage classes, the
 * allow-listed tensor-rebuilding globals, and turning the unpickled object into
 * flat name -> HostTensor entries.
 */

/** torch storage classes -> element type. */
export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage a persistent id names: `numel` elements of `dtype`, starting `base` elements into the stored bytes under `key`. */
export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: DType;
  readonly key: string;
  readonly numel: number;
  /** Element offset into the stored key's data (legacy storage views); 0 otherwise. */
  readonly base: number;
}

/** A tensor as _rebuild_tensor(_v2) describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

function intList(v: unknown, what: string, file: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new TensorFileError(file, `_rebuild_tensor_v2: ${what} must be a tuple of non-negative integers, got ${describe(v)}`);
  }
  return v as number[];
}

/** A short, JSON-safe description of a pickled value for error messages (bigints and globals included). */
export function describe(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? Object.fromEntries(x) : x));
    return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * The allow-list of globals a tensor checkpoint may name: torch's storage classes (as
 * markers), collections.OrderedDict, and the functions that rebuild tensors and
 * parameters. Each is interpreted here as plain data; nothing is imported or run.
 */
export function tensorGlobals(file: string): Map<string, AllowedGlobal> {
  const globals = new Map<string, AllowedGlobal>();
  for (const name of Object.keys(STORAGE_DTYPES)) globals.set(`torch.${name}`, {});
  const ordered: AllowedGlobal = {
    call: (args) => {
      const m = new Map<unknown, unknown>();
      if (args.length && Array.isArray(args[0])) for (const kv of args[0] as unknown[]) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
      return m;
    },
    // OrderedDict state (e.g. state_dict's _metadata attribute) carries no tensors.
    build: (obj) => obj,
  };
  globals.set('collections.OrderedDict', ordered);
  // (storage, storage_offset, size, stride[, requires_grad, backward_hooks]); _rebuild_tensor is
  // the pre-0.4 spelling without the last two, still found in old legacy-format files.
  const rebuild: AllowedGlobal = {
    call: (args) => {
      const [storage, offset, size, stride] = args;
      if (!(storage && (storage as StorageRef).kind === 'storage')) throw new TensorFileError(file, '_rebuild_tensor_v2: first argument is not a storage');
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new TensorFileError(file, `_rebuild_tensor_v2: bad storage offset ${describe(offset)}`);
      return new TensorRef(storage as StorageRef, offset, intList(size, 'size', file), intList(stride, 'stride', file));
    },
    build: (obj) => obj,
  };
  globals.set('torch._utils._rebuild_tensor_v2', rebuild);
  globals.set('torch._utils._rebuild_tensor', rebuild);
  const parameter: AllowedGlobal = {
    call: (args) => {
      if (!(args[0] instanceof TensorRef)) throw new TensorFileError(file, '_rebuild_parameter: data is not a tensor');
      return args[0];
    },
    build: (obj) => obj,
  };
  globals.set('torch._utils._rebuild_parameter', parameter);
  globals.set('torch._utils._rebuild_parameter_with_state', parameter);
  return globals;
}

/** The fields every storage persistent id has: ('storage', torch.<Type>Storage, key, location, numel, ...). */
export function storagePid(pid: unknown, file: string): { dtype: DType; key: string; numel: number; rest: unknown[] } {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new TensorFileError(file, `unsupported persistent id ${describe(pid)}`);
  const [, type, key, , numel, ...rest] = pid as [string, { name?: string }, unknown, unknown, unknown, ...unknown[]];
  const dtype = type && typeof type === 'object' ? STORAGE_DTYPES[type.name ?? ''] : undefined;
  if (!dtype) throw new TensorFileError(file, `unsupported storage type in persistent id ${describe(type)}`);
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new TensorFileError(file, `bad storage key ${describe(key)}`);
  if (typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) throw new TensorFileError(file, `bad storage size ${describe(numel)}`);
  return { dtype, key, numel, rest };
}

/**
 * Walk the unpickled object (a possibly nested dict) and copy every tensor out of its
 * storage; nested dict keys are joined with ".". `storageBytes` returns the bytes of a
 * storage (at least numel elements, starting at its first element) or throws.
 */
export function collectTensors(obj: unknown, file: string, storageBytes: (s: StorageRef, name: string) => Uint8Array): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const visit = (value: unknown, prefix: string) => {
    if (value instanceof TensorRef) out.set(prefix, materialize(value, storageBytes(value.storage, prefix), file, prefix));
    else if (value instanceof Map) {
      for (const [k, v] of value) visit(v, prefix ? `${prefix}.${String(k)}` : String(k));
    }
  };
  if (!(obj instanceof Map)) throw new TensorFileError(file, `expected a state_dict (a dict of tensors) at the top level, found ${obj instanceof PickleTuple ? 'a tuple' : typeof obj}`);
  visit(obj, '');
  if (out.size === 0) throw new TensorFileError(file, 'the checkpoint holds no tensors');
  return out;
}

/** Copy a strided view of a storage into a contiguous host tensor. */
function materialize(t: TensorRef, bytes: Uint8Array, file: string, name: string): HostTensor {
  const { dtype } = t.storage;
  const esz = DTYPE_BYTES[dtype];
  const n = shapeSize(t.size);
  if (t.size.length !== t.stride.length) throw new TensorFileError(file, `size and stride ranks differ`, name);
  let last = t.offset;
  for (let i = 0; i < t.size.length; i++) if (t.size[i] > 0) last += (t.size[i] - 1) * t.stride[i];
  if (n > 0 && last >= t.storage.numel) throw new TensorFileError(file, `view [${t.size.join(', ')}] at offset ${t.offset} overruns its storage of ${t.storage.numel} elements`, name);
  if (bytes.byteLength < t.storage.numel * esz) throw new TensorFileError(file, `storage ${t.storage.key} has ${bytes.byteLength} bytes, ${t.storage.numel} elements of ${dtype} need ${t.storage.numel * esz}`, name);
  const contiguous = t.size.every((_, i) => t.size[i] <= 1 || t.stride[i] === shapeSize(t.size.slice(i + 1)));
  if (contiguous) {
    // a copy, so the result does not pin the whole checkpoint buffer
    const data = typedFromBytes(dtype, bytes.slice(t.offset * esz, (t.offset + n) * esz));
    return { dtype, shape: [...t.size], data };
  }
  const src = typedFromBytes(dtype, bytes.subarray(0, t.storage.numel * esz));
  const dst = new (src.constructor as { new (n: number): TypedArray })(n);
  const rank = t.size.length;
  const idx = new Array<number>(rank).fill(0);
  let s = t.offset;
  for (let o = 0; o < n; o++) {
    (dst as Float32Array)[o] = (src as Float32Array)[s];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      s += t.stride[d];
      if (idx[d] < t.size[d]) break;
      s -= t.stride[d] * t.size[d];
      idx[d] = 0;
    }
  }
  return { dtype, shape: [...t.size], data: dst };
}
