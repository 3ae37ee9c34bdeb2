import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TensorFileError } from '../../errors.js';
import { readFileBytes, readSafetensorsFile } from '../node-files.js';
import { writeZip } from '../zip.js';
import { unpickle } from './restricted-unpickler.js';
import { readTorchCheckpoint, readTorchCheckpointFile } from './torch-checkpoint.js';

const FIXTURE = fileURLToPath(new URL('../../../../../../shared/fixtures/guided-diffusion/checkpoint_pt/', import.meta.url));
const hasFixture = existsSync(`${FIXTURE}model.pt`);

/** A tiny pickle writer (protocol 2 opcodes), to build checkpoints by hand. */
class Pickle {
  private parts: number[] = [0x80, 2];
  private enc = new TextEncoder();
  op(...b: number[]) {
    this.parts.push(...b);
    return this;
  }
  global(module: string, name: string) {
    return this.op(0x63, ...this.enc.encode(`${module}\n${name}\n`));
  }
  str(s: string) {
    const b = this.enc.encode(s);
    return this.op(0x58, b.length & 255, (b.length >> 8) & 255, 0, 0, ...b);
  }
  int(v: number) {
    return this.op(0x4a, v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  }
  ints(vs: number[]) {
    this.op(0x28);
    for (const v of vs) this.int(v);
    return this.op(0x74);
  }
  bytes() {
    return Uint8Array.from([...this.parts, 0x2e]);
  }
}

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
    expect(() => readTorchCheckpoint(Uint8Array.from([0x80, 2, 0x8a, 0x0a]), 'legacy.pt')).toThrow(/legacy/);
    expect(() => readTorchCheckpoint(writeZip([{ name: 'a.txt', data: new Uint8Array(3) }]), 'other.zip')).toThrow(/no data\.pkl/);
  });
});
