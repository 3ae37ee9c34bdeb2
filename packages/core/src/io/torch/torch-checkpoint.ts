import { TensorFileError } from '../../errors.js';
import { DTYPE_BYTES, type HostTensor } from '../dtypes.js';
import { ZipArchive } from '../zip.js';
import { readLegacyTorchCheckpoint } from './legacy-torch-checkpoint.js';
import { unpickle } from './restricted-unpickler.js';
import { collectTensors, storagePid, tensorGlobals, type StorageRef } from './torch-tensors.js';

/**
 * Read a PyTorch checkpoint saved with torch.save: the zip format of PyTorch >= 1.6 (as
 * openai/guided-diffusion's released models are) or the legacy pre-1.6 format (as
 * pytorch-fid's Inception weights are), told apart by their first bytes. The pickled
 * object is a (possibly nested) dict of tensors, returned flat as name -> HostTensor
 * (nested dict keys joined with "."). The pickle is read by a restricted unpickler that
 * allows only torch's storage classes, torch._utils._rebuild_tensor(_v2) /
 * _rebuild_parameter and collections.OrderedDict; any other global is refused with an
 * error naming it. Nothing from the file is ever executed. Malformed or hostile files
 * (corrupt or ambiguous zips, cyclic or very deep dicts, huge integers, views larger than
 * their storage can back) are refused with a TensorFileError naming the file; work and
 * memory stay proportional to the file's real bytes.
 */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  if (bytes.byteLength === 0) throw new TensorFileError(file, 'empty file, not a PyTorch checkpoint');
  // zip local header "PK\x03\x04" (or an empty archive's "PK\x05\x06")
  if (bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return readZipTorchCheckpoint(bytes, file);
  // the legacy format opens with a pickle, whose first opcode is PROTO (0x80)
  if (bytes[0] === 0x80) return readLegacyTorchCheckpoint(bytes, file);
  if (bytes.byteLength >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new TensorFileError(file, 'tar-format torch.save checkpoints (PyTorch < 0.4) are not supported; re-save it with a newer PyTorch (torch.save(torch.load(f), f))');
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new TensorFileError(file, `not a PyTorch checkpoint: starts with bytes ${head}, expected a zip archive ("PK\\x03\\x04") or a legacy torch.save pickle (0x80)`);
}

/** The zip format: archive/data.pkl plus one member archive/data/<key> per storage. */
function readZipTorchCheckpoint(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  const zip = new ZipArchive(bytes, file);
  const pkls = zip.names().filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkls.length === 0) throw new TensorFileError(file, `not a PyTorch checkpoint: the zip has no data.pkl (members: ${zip.names().slice(0, 8).join(', ')})`);
  if (pkls.length > 1) throw new TensorFileError(file, `ambiguous PyTorch checkpoint: the zip holds ${pkls.length} data.pkl members (${pkls.slice(0, 4).join(', ')}), expected one`);
  const pkl = pkls[0];
  const root = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = zip.names().find((n) => n === `${root}byteorder`);
  if (order && new TextDecoder().decode(zip.read(order)).trim() !== 'little') {
    throw new TensorFileError(file, 'big-endian checkpoints are not supported');
  }

  // ('storage', torch.<Type>Storage, key, location, numel); one key is one storage, so
  // it must be declared the same way every time (PyTorch would silently reuse the first)
  const declared = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const { dtype, key, numel } = storagePid(pid, file);
    const first = declared.get(key);
    if (first && (first.dtype !== dtype || first.numel !== numel)) {
      throw new TensorFileError(file, `storage ${key} is declared both as ${first.numel} x ${first.dtype} and as ${numel} x ${dtype}`);
    }
    const ref: StorageRef = first ?? { kind: 'storage', dtype, key, numel, base: 0 };
    declared.set(key, ref);
    return ref;
  };
  const obj = unpickle(zip.read(pkl), `${file}:${pkl}`, { globals: tensorGlobals(file), persistentLoad });

  const storages = new Map<string, Uint8Array>();
  return collectTensors(obj, file, (s, name) => {
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
  });
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
