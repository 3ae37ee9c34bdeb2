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

/** Limits no real state_dict comes near; past them a file is refused before any work is done. */
const MAX_RANK = 64;
/** Elements of one tensor (2^31: 8 GiB of float32). */
const MAX_TENSOR_ELEMENTS = 2 ** 31;
/** Dicts nested inside each other (a state_dict is 1-3 deep). */
const MAX_DEPTH = 64;
/** Dict entries walked, and OrderedDict(...) items built, per file. */
const MAX_ENTRIES = 1 << 20;
/** Tensor bytes materialised may exceed the storage bytes in the file (overlapping or broadcast views) by this factor plus slack. */
const OUTPUT_RATIO = 8;
const OUTPUT_SLACK = 64 << 20;

function intList(v: unknown, what: string, file: string): number[] {
  if (!Array.isArray(v) || v.length > MAX_RANK || !v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new TensorFileError(file, `_rebuild_tensor_v2: ${what} must be a tuple of at most ${MAX_RANK} non-negative integers, got ${describe(v)}`);
  }
  return v as number[];
}

/** A short description of a pickled value for error messages; bounded in depth and length, so cyclic or huge values are safe. */
export function describe(v: unknown): string {
  const MAX = 200;
  let out = '';
  const walk = (x: unknown, depth: number): void => {
    if (out.length > MAX) return;
    if (typeof x === 'bigint') out += `${x}n`;
    else if (typeof x === 'string') out += JSON.stringify(x.length > MAX ? `${x.slice(0, MAX)}...` : x);
    else if (x === null || typeof x !== 'object') out += String(x);
    else if (depth >= 4) out += '...';
    else if (x instanceof Map || Array.isArray(x) || x instanceof Set) {
      const [open, close] = x instanceof Map || x instanceof Set ? ['{', '}'] : x instanceof PickleTuple ? ['(', ')'] : ['[', ']'];
      out += open;
      let first = true;
      for (const item of x instanceof Map ? x.entries() : x.values()) {
        if (out.length > MAX) break;
        if (!first) out += ', ';
        first = false;
        if (x instanceof Map) {
          const [k, val] = item as [unknown, unknown];
          walk(k, depth + 1);
          out += ': ';
          walk(val, depth + 1);
        } else walk(item, depth + 1);
      }
      out += close;
    } else if (x instanceof Uint8Array) out += `<${x.byteLength} bytes>`;
    else if (x instanceof TensorRef) out += `<tensor [${x.size.join(', ')}] of storage ${x.storage.key}>`;
    else if ((x as StorageRef).kind === 'storage') out += `<storage ${(x as StorageRef).key}>`;
    else if ((x as { kind?: unknown }).kind === 'global') out += `<global ${(x as { module: string }).module}.${(x as { name: string }).name}>`;
    else out += Object.prototype.toString.call(x);
  };
  walk(v, 0);
  return out.length > MAX ? `${out.slice(0, MAX)}...` : out;
}

/**
 * The allow-list of globals a tensor checkpoint may name: torch's storage classes (as
 * markers), collections.OrderedDict, and the functions that rebuild tensors and
 * parameters. Each is interpreted here as plain data; nothing is imported or run.
 */
export function tensorGlobals(file: string): Map<string, AllowedGlobal> {
  const globals = new Map<string, AllowedGlobal>();
  for (const name of Object.keys(STORAGE_DTYPES)) globals.set(`torch.${name}`, {});
  // a memoized item list can be passed to OrderedDict(...) over and over: bound the total work
  let orderedItems = 0;
  const ordered: AllowedGlobal = {
    call: (args) => {
      const m = new Map<unknown, unknown>();
      if (!args.length || !Array.isArray(args[0])) return m;
      const items = args[0] as unknown[];
      orderedItems += items.length;
      if (orderedItems > MAX_ENTRIES) throw new TensorFileError(file, `OrderedDict(...) calls build more than ${MAX_ENTRIES} items in all`);
      for (const kv of items) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
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
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new TensorFileError(file, `_rebuild_tensor_v2: bad storage offset ${describe(offset)}`);
      return new TensorRef(storage as StorageRef, offset as number, intList(size, 'size', file), intList(stride, 'stride', file));
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
  const dtype = type && typeof type === 'object' && typeof type.name === 'string' && Object.hasOwn(STORAGE_DTYPES, type.name) ? STORAGE_DTYPES[type.name] : undefined;
  if (!dtype) throw new TensorFileError(file, `unsupported storage type in persistent id ${describe(type)}`);
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new TensorFileError(file, `bad storage key ${describe(key)}`);
  if (!Number.isSafeInteger(numel) || (numel as number) < 0) throw new TensorFileError(file, `bad storage size ${describe(numel)}`);
  return { dtype, key, numel: numel as number, rest };
}

/**
 * Walk the unpickled object (a possibly nested dict) and copy every tensor out of its
 * storage; nested dict keys are joined with ".". `storageBytes` returns the bytes of a
 * storage (at least numel elements, starting at its first element) or throws.
 * The walk is iterative and bounded (depth, and entries visited in all, so a dict shared
 * along many paths cannot multiply the work); a dict that contains itself and two tensors
 * that flatten to one name are refused. A dict or tensor object reached under two names (as
 * PyTorch allows, e.g. {'model': sd, 'ema': sd}) gives both names; a tensor is materialised
 * once and its data shared.
 */
export function collectTensors(obj: unknown, file: string, storageBytes: (s: StorageRef, name: string) => Uint8Array): Map<string, HostTensor> {
  if (!(obj instanceof Map)) throw new TensorFileError(file, `expected a state_dict (a dict of tensors) at the top level, found ${obj instanceof PickleTuple ? 'a tuple' : typeof obj}`);
  const fail = (detail: string, tensor?: string): never => {
    throw new TensorFileError(file, detail, tensor);
  };
  const out = new Map<string, HostTensor>();
  const made = new Map<TensorRef, HostTensor>();
  const budget = new OutputBudget(file);
  // the dicts on the current path, by flat name (meeting one of them again is a cycle)
  const open = new Map<Map<unknown, unknown>, string>();
  const path: Array<{ map: Map<unknown, unknown>; prefix: string; entries: Iterator<[unknown, unknown]> }> = [];
  const enter = (map: Map<unknown, unknown>, prefix: string) => {
    const where = prefix || '<top level>';
    const outer = open.get(map);
    if (outer !== undefined) fail(`dict "${where}" contains itself (through "${outer || '<top level>'}"); a state_dict is a tree`);
    if (path.length >= MAX_DEPTH) fail(`dicts nest more than ${MAX_DEPTH} deep at "${where}"`);
    open.set(map, prefix);
    path.push({ map, prefix, entries: map.entries() });
  };
  let walked = 0;
  enter(obj, '');
  while (path.length) {
    const frame = path[path.length - 1];
    const next = frame.entries.next();
    if (next.done) {
      open.delete(frame.map);
      path.pop();
      continue;
    }
    if (++walked > MAX_ENTRIES) fail(`the checkpoint's dicts hold more than ${MAX_ENTRIES} entries`);
    const [k, value] = next.value;
    if (!(value instanceof TensorRef) && !(value instanceof Map)) continue; // epochs, hyper-parameters, ...
    if (!['string', 'number', 'bigint', 'boolean'].includes(typeof k)) fail(`dict "${frame.prefix || '<top level>'}" has a key ${describe(k)} that is not a string or number`);
    const name = frame.prefix ? `${frame.prefix}.${String(k)}` : String(k);
    if (value instanceof Map) {
      enter(value, name);
      continue;
    }
    if (out.has(name)) fail(`two tensors flatten to the name "${name}" (a key containing "." collides with a nested dict's key)`, name);
    const shared = made.get(value);
    if (shared) {
      // the same tensor object under a second name: its data, not a second copy
      out.set(name, { dtype: shared.dtype, shape: [...shared.shape], data: shared.data });
      continue;
    }
    checkView(value, file, name);
    const t = materialize(value, storageBytes(value.storage, name), file, name, budget);
    made.set(value, t);
    out.set(name, t);
  }
  if (out.size === 0) throw new TensorFileError(file, 'the checkpoint holds no tensors');
  return out;
}

/** Refuse a view that does not fit its storage or is too large, from its numbers alone (before any storage is read or memory allocated). */
function checkView(t: TensorRef, file: string, name: string): void {
  const { size, stride, offset, storage } = t;
  if (size.length !== stride.length) throw new TensorFileError(file, `size [${size.join(', ')}] and stride [${stride.join(', ')}] ranks differ`, name);
  const n = shapeSize(size);
  if (n > MAX_TENSOR_ELEMENTS) throw new TensorFileError(file, `view [${size.join(', ')}] has ${n} elements, more than a tensor may have (${MAX_TENSOR_ELEMENTS})`, name);
  if (n === 0) return;
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
  if (last >= storage.numel) throw new TensorFileError(file, `view [${size.join(', ')}] at offset ${offset} overruns its storage of ${storage.numel} elements`, name);
}

/**
 * Bounds the tensor bytes materialised by the storage bytes actually in the file, so a
 * small file cannot make views (stride 0, overlapping, many views of one storage)
 * allocate memory in proportion to the sizes they declare.
 */
class OutputBudget {
  private stored = 0;
  private spent = 0;
  private readonly storages = new Set<string>();
  constructor(private readonly file: string) {}

  spend(storage: StorageRef, storageBytes: number, bytes: number, name: string): void {
    const id = `${storage.key}@${storage.base}`;
    if (!this.storages.has(id)) {
      this.storages.add(id);
      this.stored += storageBytes;
    }
    const limit = OUTPUT_SLACK + OUTPUT_RATIO * this.stored;
    if (this.spent + bytes > limit) {
      throw new TensorFileError(
        this.file,
        `materialising this view (${bytes} bytes) would bring the tensors to ${this.spent + bytes} bytes from ${this.stored} bytes of storage in the file (at most ${OUTPUT_RATIO}x + ${OUTPUT_SLACK >> 20} MiB): views that large are not a state_dict`,
        name,
      );
    }
    this.spent += bytes;
  }
}

/** Copy a strided view (checked by checkView) of a storage into a contiguous host tensor. */
function materialize(t: TensorRef, bytes: Uint8Array, file: string, name: string, budget: OutputBudget): HostTensor {
  const { dtype } = t.storage;
  const esz = DTYPE_BYTES[dtype];
  const n = shapeSize(t.size);
  if (bytes.byteLength < t.storage.numel * esz) throw new TensorFileError(file, `storage ${t.storage.key} has ${bytes.byteLength} bytes, ${t.storage.numel} elements of ${dtype} need ${t.storage.numel * esz}`, name);
  budget.spend(t.storage, bytes.byteLength, n * esz, name);
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
