import { TensorFileError } from '../../errors.js';
import { DTYPE_BYTES, type DType, type HostTensor } from '../dtypes.js';
import { unpickleAt, type UnpickleOptions } from './restricted-unpickler.js';
import { collectTensors, describe, storagePid, tensorGlobals, type StorageRef } from './torch-tensors.js';

/** torch/serialization.py's MAGIC_NUMBER and PROTOCOL_VERSION for the legacy format. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * Read a checkpoint in torch.save's legacy (pre-1.6, non-zip) format, e.g. pytorch-fid's
 * pt_inception-2015-12-05 weights. The file is five pickles back to back: the magic
 * number, the protocol version 1001, a sys_info dict, the saved object (tensors refer to
 * storages by persistent id ('storage', type, root_key, location, numel, view_metadata))
 * and the list of storage keys; then, for each key in that list, an int64 little-endian
 * element count and that storage's raw little-endian bytes. Every pickle goes through the
 * restricted unpickler (the header pickles may name no global at all), and every count
 * and offset is checked against the file size before it is used.
 */
export function readLegacyTorchCheckpoint(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  const fail = (detail: string, tensor?: string): never => {
    throw new TensorFileError(file, `legacy torch.save format: ${detail}`, tensor);
  };
  const noGlobals: UnpickleOptions = { globals: new Map() };
  const load = (start: number, what: string, options: UnpickleOptions) => {
    try {
      return unpickleAt(bytes, start, file, options);
    } catch (e) {
      if (e instanceof TensorFileError && e.file === file && !e.detail.startsWith('legacy torch.save format')) return fail(`${what}: ${e.detail}`, e.tensor);
      throw e;
    }
  };

  const magic = load(0, 'magic number', noGlobals);
  if (magic.value !== LEGACY_MAGIC) fail(`bad magic number ${describe(magic.value)} (expected 0x${LEGACY_MAGIC.toString(16)}); not a torch.save file or corrupt`);
  const version = load(magic.end, 'protocol version', noGlobals);
  if (version.value !== LEGACY_PROTOCOL) fail(`unsupported protocol version ${describe(version.value)} (expected ${LEGACY_PROTOCOL})`);
  const sysInfo = load(version.end, 'sys_info', noGlobals);
  if (!(sysInfo.value instanceof Map)) fail(`sys_info is not a dict: ${describe(sysInfo.value)}`);
  const littleEndian = (sysInfo.value as Map<unknown, unknown>).get('little_endian');
  if (littleEndian === false) fail('big-endian checkpoints are not supported');
  if (littleEndian !== true) fail(`sys_info.little_endian is ${describe(littleEndian)}, expected True`);

  // Root storages the pickle declares, by key; views (old files) point into them.
  const roots = new Map<string, { dtype: DType; numel: number }>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (Array.isArray(pid) && pid[0] === 'module') {
      fail(`the file pickles a whole nn.Module (persistent id for class ${describe(pid[1])}); only state_dicts can be read: save model.state_dict() instead`);
    }
    const { dtype, key, numel, rest } = storagePid(pid, file);
    if (rest.length !== 1) fail(`storage persistent id has ${rest.length + 5} fields, expected 6: ${describe(pid)}`);
    const root = roots.get(key);
    if (root && (root.dtype !== dtype || root.numel !== numel)) {
      fail(`storage ${key} is declared both as ${root.numel} x ${root.dtype} and as ${numel} x ${dtype}`);
    }
    roots.set(key, { dtype, numel });
    const view = rest[0];
    if (view === null) return { kind: 'storage', dtype, key, numel, base: 0 };
    // (view_key, offset, view_size), both in elements of the root storage
    if (!Array.isArray(view) || view.length !== 3) return fail(`bad storage view metadata ${describe(view)}`);
    const [, offset, size] = view as unknown[];
    const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    if (!isCount(offset) || !isCount(size) || offset + size > numel) {
      return fail(`storage view ${describe(view)} does not fit in storage ${key} of ${numel} elements`);
    }
    return { kind: 'storage', dtype, key, numel: size, base: offset };
  };
  const main = load(sysInfo.end, 'pickled object', { globals: tensorGlobals(file), persistentLoad });

  const keyList = load(main.end, 'storage key list', noGlobals);
  if (!Array.isArray(keyList.value)) fail(`the storage key list is not a list: ${describe(keyList.value)}`);
  const keys = keyList.value as unknown[];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  let p = keyList.end;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== 'string') return fail(`storage key #${i} is not a string: ${describe(key)}`);
    if (data.has(key)) fail(`storage ${key} is listed twice`);
    const root = roots.get(key);
    if (!root) return fail(`storage ${key} (#${i} of the key list) is not referenced by any tensor`);
    if (p + 8 > bytes.byteLength) fail(`truncated: storage ${key} (#${i} of ${keys.length}) needs an 8-byte element count at byte ${p}, the file has ${bytes.byteLength} bytes`);
    const count = dv.getBigInt64(p, true);
    if (count !== BigInt(root.numel)) {
      fail(`storage count mismatch: storage ${key} (#${i} of ${keys.length}) has ${count} elements in its header at byte ${p}, the pickle declares ${root.numel}`);
    }
    const nbytes = root.numel * DTYPE_BYTES[root.dtype];
    p += 8;
    if (p + nbytes > bytes.byteLength) {
      fail(`truncated: storage ${key} (#${i} of ${keys.length}) needs ${nbytes} bytes (${root.numel} x ${root.dtype}) at byte ${p}, the file has ${bytes.byteLength - p} left`);
    }
    data.set(key, bytes.subarray(p, p + nbytes));
    p += nbytes;
  }
  for (const key of roots.keys()) if (!data.has(key)) fail(`storage ${key} is referenced by a tensor but missing from the storage key list`);

  return collectTensors(main.value, file, (s, name) => {
    const esz = DTYPE_BYTES[s.dtype];
    const root = data.get(s.key)!;
    if ((s.base + s.numel) * esz > root.byteLength) fail(`storage view of ${s.key} overruns it`, name);
    return root.subarray(s.base * esz, (s.base + s.numel) * esz);
  });
}
