import { TensorFileError } from '../../errors.js';
import { DTYPE_BYTES, shapeSize, typedFromBytes, type DType, type HostTensor, type TypedArray } from '../dtypes.js';
import { ZipArchive } from '../zip.js';
import { PickleTuple, unpickle, type AllowedGlobal } from './restricted-unpickler.js';

/** torch storage classes -> element type. */
const STORAGE_DTYPES: Record<string, DType> = {
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

interface StorageRef {
  readonly kind: 'storage';
  dtype: DType;
  key: string;
  numel: number;
}

/** A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

function intList(v: unknown, what: string, file: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new TensorFileError(file, `_rebuild_tensor_v2: ${what} must be a tuple of non-negative integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/**
 * Read a PyTorch checkpoint saved with torch.save (the zip format of PyTorch >= 1.6, as
 * openai/guided-diffusion's released models are): the pickled object is a (possibly
 * nested) dict of tensors, returned flat as name -> HostTensor (nested dict keys joined
 * with "."). The pickle is read by a restricted unpickler that allows only torch's
 * storage classes, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and
 * collections.OrderedDict; any other global is refused with an error naming it.
 * Nothing from the file is ever executed.
 */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  if (bytes.byteLength >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new TensorFileError(file, 'legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a newer PyTorch (torch.save(torch.load(f), f))');
  }
  const zip = new ZipArchive(bytes, file);
  const pkl = zip.names().find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new TensorFileError(file, `not a PyTorch checkpoint: the zip has no data.pkl (members: ${zip.names().slice(0, 8).join(', ')})`);
  const root = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = zip.names().find((n) => n === `${root}byteorder`);
  if (order && new TextDecoder().decode(zip.read(order)).trim() !== 'little') {
    throw new TensorFileError(file, 'big-endian checkpoints are not supported');
  }

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
  globals.set('torch._utils._rebuild_tensor_v2', {
    call: (args) => {
      const [storage, offset, size, stride] = args;
      if (!(storage && (storage as StorageRef).kind === 'storage')) throw new TensorFileError(file, '_rebuild_tensor_v2: first argument is not a storage');
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new TensorFileError(file, `_rebuild_tensor_v2: bad storage offset ${String(offset)}`);
      return new TensorRef(storage as StorageRef, offset, intList(size, 'size', file), intList(stride, 'stride', file));
    },
    build: (obj) => obj,
  });
  const parameter: AllowedGlobal = {
    call: (args) => {
      if (!(args[0] instanceof TensorRef)) throw new TensorFileError(file, '_rebuild_parameter: data is not a tensor');
      return args[0];
    },
    build: (obj) => obj,
  };
  globals.set('torch._utils._rebuild_parameter', parameter);
  globals.set('torch._utils._rebuild_parameter_with_state', parameter);

  const persistentLoad = (pid: unknown): StorageRef => {
    // ('storage', torch.<Type>Storage, key, location, numel)
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new TensorFileError(file, `unsupported persistent id ${JSON.stringify(pid)}`);
    const [, type, key, , numel] = pid as [string, { name?: string }, unknown, unknown, unknown];
    const dtype = type && typeof type === 'object' ? STORAGE_DTYPES[type.name ?? ''] : undefined;
    if (!dtype) throw new TensorFileError(file, `unsupported storage type in persistent id ${JSON.stringify(type)}`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new TensorFileError(file, `bad storage key ${JSON.stringify(key)}`);
    if (typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) throw new TensorFileError(file, `bad storage size ${JSON.stringify(numel)}`);
    return { kind: 'storage', dtype, key, numel };
  };

  const obj = unpickle(zip.read(pkl), `${file}:${pkl}`, { globals, persistentLoad });

  const storages = new Map<string, Uint8Array>();
  const storageBytes = (s: StorageRef, name: string): Uint8Array => {
    let b = storages.get(s.key);
    if (!b) {
      const member = `${root}data/${s.key}`;
      if (!zip.entries.has(member)) throw new TensorFileError(file, `storage ${s.key} is missing from the archive (no ${member})`, name);
      b = zip.read(member);
      storages.set(s.key, b);
    }
    if (b.byteLength < s.numel * DTYPE_BYTES[s.dtype]) {
      throw new TensorFileError(file, `storage ${s.key} has ${b.byteLength} bytes, ${s.numel} elements of ${s.dtype} need ${s.numel * DTYPE_BYTES[s.dtype]}`, name);
    }
    return b;
  };

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

/** readTorchCheckpoint for a file on disk (Node only); files over 2 GiB (the 512x512 models) are read in chunks. */
export async function readTorchCheckpointFile(path: string): Promise<Map<string, HostTensor>> {
  const fs = await import('node:fs/promises');
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    throw new TensorFileError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot open (${(e as Error).message})`);
  }
  let bytes: Uint8Array;
  try {
    const size = (await handle.stat()).size;
    bytes = new Uint8Array(size);
    const chunk = 1 << 28;
    for (let off = 0; off < size; ) {
      const { bytesRead } = await handle.read(bytes, off, Math.min(chunk, size - off), off);
      if (bytesRead === 0) throw new TensorFileError(path, `short read at byte ${off} of ${size}`);
      off += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return readTorchCheckpoint(bytes, path);
}
