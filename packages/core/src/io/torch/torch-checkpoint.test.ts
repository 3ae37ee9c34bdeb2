import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TensorFileError } from '../../errors.js';
import { f16ToF32 } from '../dtypes.js';
import { readFileBytes, readSafetensorsFile } from '../node-files.js';
import { writeZip } from '../zip.js';
import { unpickle } from './restricted-unpickler.js';
import { readTorchCheckpoint, readTorchCheckpointFile } from './torch-checkpoint.js';
import { Pickle } from './torch-test-utils.js';

const FIXTURE = fileURLToPath(new URL('../../../../../../shared/fixtures/guided-diffusion/checkpoint_pt/', import.meta.url));
const hasFixture = existsSync(`${FIXTURE}model.pt`);

/** A state_dict {name: tensor} pickle whose single tensor views storage "0" (float32). */
function stateDictPickle(name: string, size: number[], stride: number[], offset: number, numel: number): Uint8Array {
  const p = new Pickle();
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
  p.str(name);
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28); // args tuple
  p.op(0x28).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).op(0x74, 0x51); // persistent id
  p.int(offset).ints(size).ints(stride).op(0x89); // requires_grad False
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // backward hooks
  p.op(0x74, 0x52); // tuple, REDUCE
  p.op(0x73); // SETITEM
  return p.bytes();
}

function checkpoint(pkl: Uint8Array, storage: Float32Array): Uint8Array {
  return writeZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: new Uint8Array(storage.buffer) },
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ]);
}

describe('readTorchCheckpoint', () => {
  it.skipIf(!hasFixture)("reads guided-diffusion's model.pt bit-identical to the fixture's safetensors copy", async () => {
    const got = await readTorchCheckpointFile(`${FIXTURE}model.pt`);
    const want = (await readSafetensorsFile(`${FIXTURE}tensors.safetensors`)).withPrefix('model.');
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [k, w] of want) {
      const g = got.get(k)!;
      expect(g.dtype).toBe('F32');
      expect(g.shape).toEqual(w.shape);
      expect(Buffer.from(new Uint8Array(g.data.buffer, g.data.byteOffset, g.data.byteLength)).equals(Buffer.from(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength)))).toBe(true);
    }
  });

  it('rebuilds strided (non-contiguous) and offset views', () => {
    const storage = Float32Array.from({ length: 8 }, (_, i) => i);
    // a transposed 2x3 view starting at element 1: rows are columns of [[1,2],[3,4],[5,6]]
    const t = readTorchCheckpoint(checkpoint(stateDictPickle('w', [2, 3], [1, 2], 1, 8), storage), 'strided.pt').get('w')!;
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('refuses a pickle that names a forbidden global, naming it, without running anything', () => {
    const evil = new Pickle().global('os', 'system').str('echo pwned').op(0x85, 0x52).bytes();
    const bytes = checkpoint(evil, new Float32Array(1));
    expect(() => readTorchCheckpoint(bytes, 'evil.pt')).toThrow(TensorFileError);
    expect(() => readTorchCheckpoint(bytes, 'evil.pt')).toThrow(/refusing global "os\.system"/);
    // builtins reached through STACK_GLOBAL are refused the same way
    const viaStack = new Pickle().str('builtins').str('eval').op(0x93).bytes();
    expect(() => unpickle(viaStack.subarray(0), 'x.pkl', { globals: new Map() })).toThrow(/refusing global "builtins\.eval"/);
  });

  it('refuses extension codes and class instantiation opcodes', () => {
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x82, 1, 0x2e]), 'ext.pkl', { globals: new Map() })).toThrow(/EXT1/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x28, 0x6f, 0x2e]), 'obj.pkl', { globals: new Map() })).toThrow(/OBJ/);
  });

  it('reports a truncated zip', async () => {
    const good = checkpoint(stateDictPickle('w', [2], [1], 0, 2), new Float32Array([1, 2]));
    expect(() => readTorchCheckpoint(good.subarray(0, good.byteLength - 30), 'cut.pt')).toThrow(TensorFileError);
    expect(() => readTorchCheckpoint(good.subarray(0, good.byteLength - 30), 'cut.pt')).toThrow(/cut\.pt.*(truncated|end-of-central-directory)/);
    if (hasFixture) {
      const real = await readFileBytes(`${FIXTURE}model.pt`);
      expect(() => readTorchCheckpoint(real.subarray(0, real.byteLength >> 1), 'half.pt')).toThrow(/half\.pt/);
    }
  });

  it('reports a truncated pickle and a view that overruns its storage', () => {
    const pkl = stateDictPickle('w', [2], [1], 0, 2);
    expect(() => readTorchCheckpoint(checkpoint(pkl.subarray(0, pkl.length - 5), new Float32Array(2)), 'p.pt')).toThrow(/pickle: (truncated|stack underflow|MARK)/);
    expect(() => readTorchCheckpoint(checkpoint(stateDictPickle('w', [4], [1], 0, 2), new Float32Array(2)), 'o.pt')).toThrow(/overruns its storage/);
    expect(() => readTorchCheckpoint(checkpoint(stateDictPickle('w', [4], [1], 0, 4), new Float32Array(2)), 's.pt')).toThrow(/storage 0 has 8 bytes/);
  });

  it('explains what is wrong with files that are not zip checkpoints', () => {
    expect(() => readTorchCheckpoint(Uint8Array.from([0x80, 2, 0x8a, 0x0a]), 'legacy.pt')).toThrow(/legacy\.pt: legacy torch\.save format: magic number: pickle: truncated/);
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expect(() => readTorchCheckpoint(tar, 'old.tar')).toThrow(/old\.tar: tar-format/);
    expect(() => readTorchCheckpoint(Uint8Array.from([1, 2, 3, 4]), 'junk.bin')).toThrow(/junk\.bin: not a PyTorch checkpoint: starts with bytes 01 02 03 04/);
    expect(() => readTorchCheckpoint(new Uint8Array(0), 'empty.pt')).toThrow(/empty\.pt: empty file/);
    expect(() => readTorchCheckpoint(writeZip([{ name: 'a.txt', data: new Uint8Array(3) }]), 'other.zip')).toThrow(/no data\.pkl/);
  });
});

// torch.save(..., _use_new_zipfile_serialization=False) output and PyTorch's own values for it
// (fixtures/make_legacy_checkpoint.py).
const LEGACY = fileURLToPath(new URL('./fixtures/legacy_state_dict.pth', import.meta.url));
interface LegacyExpected {
  storage_keys: string[];
  storage_data_offset: number;
  file_size: number;
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | string | boolean)[] }>;
}
const legacyExpected = JSON.parse(readFileSync(LEGACY.replace(/\.pth$/, '.json'), 'utf8')) as LegacyExpected;

const MAGIC = 0x1950a86a20f9469cfc6cn;

/** The three header pickles of the legacy format, written by hand (not by the reader's code). */
function legacyHeader(opts: { magic?: bigint; version?: number; littleEndian?: boolean } = {}): number[] {
  const magic: number[] = [];
  for (let v = opts.magic ?? MAGIC, i = 0; i < 10; i++, v >>= 8n) magic.push(Number(v & 255n));
  const version = opts.version ?? 1001;
  const sysInfo = new Pickle()
    .op(0x7d, 0x28)
    .str('protocol_version')
    .int(1001)
    .str('little_endian')
    .op(opts.littleEndian === false ? 0x89 : 0x88)
    .op(0x75)
    .bytes();
  return [0x80, 2, 0x8a, 10, ...magic, 0x2e, 0x80, 2, 0x4d, version & 255, version >> 8, 0x2e, ...sysInfo];
}

/** A legacy state_dict {w: float32 tensor} whose storage pid is ('storage', FloatStorage, key, 'cpu', numel, view). */
function legacyMainPickle(size: number[], stride: number[], offset: number, numel: number, view?: [string, number, number]): Uint8Array {
  const p = new Pickle();
  p.global('collections', 'OrderedDict').op(0x29, 0x52);
  p.str('w');
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28);
  p.op(0x28).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel);
  if (view) p.op(0x28).str(view[0]).int(view[1]).int(view[2]).op(0x74);
  else p.op(0x4e);
  p.op(0x74, 0x51);
  p.int(offset).ints(size).ints(stride).op(0x89);
  p.global('collections', 'OrderedDict').op(0x29, 0x52);
  p.op(0x74, 0x52, 0x73);
  return p.bytes();
}

function keyListPickle(keys: string[]): Uint8Array {
  const p = new Pickle().op(0x5d, 0x28);
  for (const k of keys) p.str(k);
  return p.op(0x65).bytes();
}

function legacyFile(main: Uint8Array, keys: string[], storages: { count: number; data: Float32Array }[], header = legacyHeader()): Uint8Array {
  const parts: number[] = [...header, ...main, ...keyListPickle(keys)];
  for (const s of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(s.count), true);
    parts.push(...count, ...new Uint8Array(s.data.buffer));
  }
  return Uint8Array.from(parts);
}

describe('readTorchCheckpoint (legacy pre-1.6 format)', () => {
  it("reads PyTorch's legacy torch.save output with the values PyTorch loads", async () => {
    const got = await readTorchCheckpointFile(LEGACY);
    expect([...got.keys()]).toEqual(Object.keys(legacyExpected.tensors));
    for (const [name, want] of Object.entries(legacyExpected.tensors)) {
      const t = got.get(name)!;
      expect(t.dtype, name).toBe(want.dtype);
      expect(t.shape, name).toEqual(want.shape);
      let values: (number | string | boolean)[];
      if (t.dtype === 'F16') values = Array.from(t.data as Uint16Array, f16ToF32);
      else if (t.dtype === 'I64') values = Array.from(t.data as BigInt64Array, String);
      else if (t.dtype === 'BOOL') values = Array.from(t.data as Uint8Array, (b) => b !== 0);
      else values = Array.from(t.data as Float32Array);
      expect(values, name).toEqual(want.values);
    }
    // the two views of one shared storage both come out right, and independently
    expect(got.get('shared.a')!.data).not.toBe(got.get('shared.b')!.data);
  });

  it('rebuilds tensors from old-style storage views (non-null view_metadata)', () => {
    const storage = Float32Array.from({ length: 8 }, (_, i) => i * 10);
    // the storage view starts 3 elements into root "0"; the tensor is [2] at offset 1 of the view
    const bytes = legacyFile(legacyMainPickle([2], [2], 1, 8, ['v', 3, 4]), ['0'], [{ count: 8, data: storage }]);
    const t = readTorchCheckpoint(bytes, 'view.pt').get('w')!;
    expect(Array.from(t.data as Float32Array)).toEqual([40, 60]);
    expect(() => readTorchCheckpoint(legacyFile(legacyMainPickle([2], [1], 0, 8, ['v', 6, 4]), ['0'], [{ count: 8, data: storage }]), 'badview.pt')).toThrow(
      /badview\.pt: legacy torch\.save format: storage view .* does not fit in storage 0 of 8 elements/,
    );
  });

  it('reports a truncated legacy file, naming the file and where it stops', () => {
    const real = new Uint8Array(readFileSync(LEGACY));
    expect(real.byteLength).toBe(legacyExpected.file_size);
    const cut = (k: number) => () => readTorchCheckpoint(real.subarray(0, k), 'cut.pth');
    expect(cut(100)).toThrow(TensorFileError);
    expect(cut(100)).toThrow(/cut\.pth: legacy torch\.save format: sys_info: pickle: truncated/);
    expect(cut(legacyExpected.storage_data_offset - 40)).toThrow(/cut\.pth: legacy torch\.save format: storage key list: pickle: truncated/);
    expect(cut(legacyExpected.storage_data_offset + 5)).toThrow(/cut\.pth: legacy torch\.save format: truncated: storage \d+ \(#0 of \d+\) needs an 8-byte element count/);
    const nKeys = legacyExpected.storage_keys.length;
    expect(cut(real.byteLength - 3)).toThrow(new RegExp(`cut\\.pth: legacy torch\\.save format: truncated: storage \\d+ \\(#${nKeys - 1} of ${nKeys}\\) needs \\d+ bytes`));
    // every other cut point fails cleanly too (never a RangeError or a wrong result)
    for (let k = 1; k < real.byteLength; k += 7) expect(cut(k), `cut at ${k}`).toThrow(TensorFileError);
  });

  it('refuses a legacy pickle that names a forbidden global, without running anything', () => {
    const evil = new Pickle().global('os', 'system').str('echo pwned').op(0x85, 0x52).bytes();
    const bytes = legacyFile(evil, [], []);
    expect(() => readTorchCheckpoint(bytes, 'evil.pth')).toThrow(TensorFileError);
    expect(() => readTorchCheckpoint(bytes, 'evil.pth')).toThrow(/evil\.pth: legacy torch\.save format: pickled object: pickle: refusing global "os\.system"/);
    // the header pickles allow no global at all
    const header = legacyHeader();
    const badSysInfo = [...header.slice(0, 21), ...new Pickle().global('collections', 'OrderedDict').op(0x29, 0x52).bytes()];
    expect(() => readTorchCheckpoint(legacyFile(legacyMainPickle([1], [1], 0, 1), ['0'], [{ count: 1, data: new Float32Array(1) }], badSysInfo), 'h.pth')).toThrow(
      /h\.pth: legacy torch\.save format: sys_info: pickle: refusing global "collections\.OrderedDict"/,
    );
    // whole pickled nn.Modules are refused (their persistent ids carry source code)
    const mod = new Pickle().op(0x28).str('module').str('Net').str('net.py').str('class Net: ...').op(0x74, 0x51).bytes();
    expect(() => readTorchCheckpoint(legacyFile(mod, [], []), 'mod.pth')).toThrow(/mod\.pth: legacy torch\.save format: the file pickles a whole nn\.Module/);
  });

  it('reports a storage count mismatch and inconsistent key lists', () => {
    const real = new Uint8Array(readFileSync(LEGACY));
    const bad = real.slice();
    const dv = new DataView(bad.buffer);
    const first = dv.getBigInt64(legacyExpected.storage_data_offset, true);
    dv.setBigInt64(legacyExpected.storage_data_offset, first + 1n, true);
    expect(() => readTorchCheckpoint(bad, 'count.pth')).toThrow(
      new RegExp(`count\\.pth: legacy torch\\.save format: storage count mismatch: storage ${legacyExpected.storage_keys[0]} \\(#0 of ${legacyExpected.storage_keys.length}\\) has ${first + 1n} elements in its header at byte ${legacyExpected.storage_data_offset}, the pickle declares ${first}`),
    );
    const data = new Float32Array([1, 2]);
    const main = legacyMainPickle([2], [1], 0, 2);
    expect(readTorchCheckpoint(legacyFile(main, ['0'], [{ count: 2, data }]), 'ok.pth').get('w')!.data).toEqual(data);
    expect(() => readTorchCheckpoint(legacyFile(main, ['0'], [{ count: -1, data }]), 'neg.pth')).toThrow(/storage count mismatch: storage 0 \(#0 of 1\) has -1 elements/);
    expect(() => readTorchCheckpoint(legacyFile(main, [], []), 'nokey.pth')).toThrow(/nokey\.pth: legacy torch\.save format: storage 0 is referenced by a tensor but missing from the storage key list/);
    expect(() => readTorchCheckpoint(legacyFile(main, ['0', '9'], [{ count: 2, data }]), 'extra.pth')).toThrow(/storage 9 \(#1 of the key list\) is not referenced/);
    expect(() => readTorchCheckpoint(legacyFile(main, ['0', '0'], [{ count: 2, data }]), 'dup.pth')).toThrow(/storage 0 is listed twice/);
    expect(() => readTorchCheckpoint(legacyFile(legacyMainPickle([4], [1], 0, 2), ['0'], [{ count: 2, data }]), 'over.pth')).toThrow(/over\.pth \(tensor "w"\): view \[4\] at offset 0 overruns its storage of 2 elements/);
  });

  it('checks the magic number, protocol version and byte order', () => {
    const main = legacyMainPickle([1], [1], 0, 1);
    const file = (h: number[]) => legacyFile(main, ['0'], [{ count: 1, data: new Float32Array(1) }], h);
    expect(() => readTorchCheckpoint(file(legacyHeader({ magic: 12345n })), 'm.pth')).toThrow(/m\.pth: legacy torch\.save format: bad magic number 12345/);
    expect(() => readTorchCheckpoint(file(legacyHeader({ version: 1000 })), 'v.pth')).toThrow(/v\.pth: legacy torch\.save format: unsupported protocol version 1000/);
    expect(() => readTorchCheckpoint(file(legacyHeader({ littleEndian: false })), 'b.pth')).toThrow(/b\.pth: legacy torch\.save format: big-endian/);
  });
});
