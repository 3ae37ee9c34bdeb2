import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdmError } from '../../errors.js';
import { DTYPE_BYTES, shapeSize, type HostTensor } from '../dtypes.js';
import { FUZZ_MS, RUNS, mutate, mutationArb } from '../fuzz-test-utils.js';
import { ZipArchive, writeZip } from '../zip.js';
import { readTorchCheckpoint } from './torch-checkpoint.js';
import { Pickle } from './torch-test-utils.js';

// Property tests of the .pt reader: any mutation of a valid checkpoint (zip or legacy format)
// gives a consistent load or an AdmError naming the file; never another exception, never a
// hang (FUZZ_MS is the test's timeout), never tensors out of proportion to the file's bytes.

const LEGACY = new Uint8Array(readFileSync(fileURLToPath(new URL('./fixtures/legacy_state_dict.pth', import.meta.url))));
const MODEL = fileURLToPath(new URL('../../../../../../shared/fixtures/guided-diffusion/checkpoint_pt/model.pt', import.meta.url));

/** Every pickle opcode the reader knows, plus unassigned bytes, as replacement values. */
const OPCODES = [...'()*.0123FGIJKLMNPQRSTUVXabcdeghijlmopqrstu}', ...'\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\xff'].map((c) => c.charCodeAt(0));
/** Sizes, strides, offsets and counts worth trying: edges, off-by-ones and the bombs found before. */
const INTS = fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 6, 7, -1, 0x7fffffff, -0x80000000, 1 << 29, 1 << 24, 65536), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

/** A state_dict with contiguous, transposed, offset, nested, int64 and float16 tensors over three storages; and what PyTorch would load. */
function baseCheckpoint() {
  const p = new Pickle().orderedDict();
  p.str('w').tensor({ key: '0', numel: 6, size: [2, 3], stride: [3, 1] }).setitem();
  p.str('t').tensor({ key: '0', numel: 6, size: [3, 2], stride: [1, 3] }).setitem();
  p.str('n').dict().str('b').tensor({ key: '1', numel: 2, size: [2], stride: [1], storage: 'LongStorage' }).setitem().setitem();
  p.str('h').tensor({ key: '2', numel: 4, size: [3], stride: [1], offset: 1, storage: 'HalfStorage' }).setitem();
  p.str('epoch').int(7).setitem();
  const pkl = p.bytes();
  const storages = { '0': Float32Array.of(1, 2, 3, 4, 5, 6), '1': BigInt64Array.of(-3n, 2n ** 40n), '2': Uint16Array.of(0x3c00, 0x4000, 0x4200, 0x4400) };
  const want = {
    w: [1, 2, 3, 4, 5, 6],
    t: [1, 4, 2, 5, 3, 6],
    'n.b': [-3n, 2n ** 40n],
    h: [0x4000, 0x4200, 0x4400],
  };
  return { pkl, ints: p.intOperands, storages, want };
}

function members(pkl: Uint8Array, storages: Record<string, ArrayBufferView>) {
  return [
    { name: 'archive/data.pkl', data: pkl },
    ...Object.entries(storages).map(([k, v]) => ({ name: `archive/data/${k}`, data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) })),
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ];
}

/**
 * Load `bytes`: an AdmError naming `file` passes; any other exception fails. On success
 * every tensor must be self-consistent and, together, no larger than the reader's budget
 * (8x the file's bytes + 64 MiB). Returns the tensors, or undefined when refused.
 */
function loadOrRefuse(bytes: Uint8Array, file: string): Map<string, HostTensor> | undefined {
  let got: Map<string, HostTensor>;
  try {
    got = readTorchCheckpoint(bytes, file);
  } catch (e) {
    if (!(e instanceof AdmError)) throw e;
    expect(e.message.startsWith(file), e.message).toBe(true);
    return undefined;
  }
  let total = 0;
  for (const [name, t] of got) {
    expect(Object.keys(DTYPE_BYTES), name).toContain(t.dtype);
    expect(t.data.length, name).toBe(shapeSize(t.shape));
    expect(t.data.BYTES_PER_ELEMENT, name).toBe(t.dtype === 'BF16' || t.dtype === 'F16' ? 2 : DTYPE_BYTES[t.dtype]);
    total += t.data.byteLength;
  }
  expect(total).toBeLessThanOrEqual(8 * bytes.byteLength + (64 << 20));
  return got;
}

/** A pickled value: one that pushes exactly one object, so random graphs stay well-formed pickles. */
type GraphNode =
  | { t: 'tensor'; size: number[]; stride: number[]; offset: number; storage: 'FloatStorage' | 'IntStorage' }
  | { t: 'int'; v: number }
  | { t: 'dict'; memo: number | null; entries: Array<[string, GraphNode]> }
  | { t: 'list'; memo: number | null; items: GraphNode[] }
  | { t: 'get'; memo: number };

/** Dicts and lists memoized at creation (before their items), so a `get` inside them makes a cycle and one after them shares them. */
const memoArb: fc.Arbitrary<number | null> = fc.option(fc.nat(3), { nil: null });
const graph = fc.letrec<{ node: GraphNode; dict: GraphNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('tensor' as const),
        dims: fc.array(fc.tuple(fc.constantFrom(0, 1, 2, 3, 1 << 20), fc.constantFrom(0, 1, 2, 3)), { maxLength: 3 }),
        offset: fc.nat(6),
        storage: fc.oneof({ weight: 9, arbitrary: fc.constant('FloatStorage' as const) }, { weight: 1, arbitrary: fc.constant('IntStorage' as const) }),
      }).map(({ dims, ...t }) => ({ ...t, size: dims.map((d) => d[0]), stride: dims.map((d) => d[1]) })),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('int' as const), v: fc.integer() }) },
    { weight: 3, arbitrary: tie('dict') },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('list' as const), memo: memoArb, items: fc.array(tie('node'), { maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('get' as const), memo: fc.nat(3) }) },
  ),
  dict: fc.record({ t: fc.constant('dict' as const), memo: memoArb, entries: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'a.b', '0'), tie('node')), { minLength: 1, maxLength: 4 }) }),
}));
const graphArb = graph.dict;

/** The pickle of {root: graph} (a top-level dict, as torch.save writes it). */
function writeGraph(root: GraphNode): Uint8Array {
  const p = new Pickle().orderedDict();
  const defined = new Set<number>();
  const write = (n: GraphNode): void => {
    if (n.t === 'tensor') p.tensor({ key: '0', numel: 6, size: n.size, stride: n.stride, offset: n.offset, storage: n.storage });
    else if (n.t === 'int') p.int(n.v);
    else if (n.t === 'get') {
      if (defined.has(n.memo)) p.get(n.memo);
      else p.int(0);
    } else {
      p.op(n.t === 'dict' ? 0x7d : 0x5d);
      if (n.memo !== null) {
        p.put(n.memo);
        defined.add(n.memo);
      }
      if (n.t === 'dict') {
        for (const [k, v] of n.entries) {
          p.str(k);
          write(v);
          p.setitem();
        }
      } else {
        p.op(0x28);
        for (const v of n.items) write(v);
        p.op(0x65); // APPENDS
      }
    }
  };
  p.str('root');
  write(root);
  return p.setitem().bytes();
}

const values = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>);

describe('readTorchCheckpoint property tests (zip format)', () => {
  const base = baseCheckpoint();
  const zips = [writeZip(members(base.pkl, base.storages)), writeZip(members(base.pkl, base.storages), { compress: true })];

  it('reads the unmutated checkpoint as PyTorch would', () => {
    for (const z of zips) {
      const got = readTorchCheckpoint(z, 'base.pt');
      expect(Object.fromEntries([...got].map(([k, t]) => [k, values(t)]))).toEqual(base.want);
    }
  });

  it('byte mutations of the archive: the original tensors (CRC-checked) or a typed error', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...zips), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (zip, ms) => {
        const got = loadOrRefuse(mutate(zip, ms), 'bytes.pt');
        if (got) expect(Object.fromEntries([...got].map(([k, t]) => [k, values(t)]))).toEqual(base.want);
      }),
      { numRuns: RUNS },
    );
  });

  it('pickle opcodes replaced, sizes/strides/offsets/numels changed, pickle bytes mutated: a consistent load or a typed error', { timeout: FUZZ_MS }, () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('opcode' as const), at: fc.nat(), op: fc.constantFrom(...OPCODES) }),
      fc.record({ kind: fc.constant('int' as const), which: fc.nat(), value: INTS }),
      fc.record({ kind: fc.constant('bytes' as const), ms: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let pkl: Uint8Array = base.pkl.slice();
        for (const e of edits) {
          if (e.kind === 'opcode') pkl[e.at % pkl.length] = e.op;
          else if (e.kind === 'int') {
            const at = base.ints[e.which % base.ints.length];
            if (at + 4 <= pkl.length) new DataView(pkl.buffer).setInt32(at, e.value, true);
          }
          else pkl = mutate(pkl, e.ms);
        }
        loadOrRefuse(writeZip(members(pkl, base.storages)), 'pickle.pt');
      }),
      { numRuns: RUNS },
    );
  });

  it('members duplicated, copied, resized or dropped: refused when a name repeats, else a consistent load or a typed error', { timeout: FUZZ_MS }, () => {
    const list = members(base.pkl, base.storages);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ kind: fc.constant('duplicate' as const), which: fc.nat(list.length - 1), at: fc.nat(list.length) }),
          fc.record({ kind: fc.constant('copy' as const), which: fc.nat(list.length - 1), as: fc.constantFrom('archive/data/9', 'archive/extra', 'other/data.bin') }),
          fc.record({ kind: fc.constant('resize' as const), which: fc.nat(list.length - 1), by: fc.integer({ min: -9, max: 9 }) }),
          fc.record({ kind: fc.constant('drop' as const), which: fc.nat(list.length - 1) }),
        ),
        (m) => {
          const ms = [...list];
          const file = `${m.kind}.pt`;
          if (m.kind === 'duplicate') {
            ms.splice(m.at, 0, { ...list[m.which], data: list[m.which].data.slice().reverse() });
            expect(() => readTorchCheckpoint(writeZip(ms), file)).toThrow(new RegExp(`^${file}: zip member "${list[m.which].name}" appears twice`));
            return;
          }
          if (m.kind === 'copy') ms.push({ name: m.as, data: list[m.which].data });
          else if (m.kind === 'drop') ms.splice(m.which, 1);
          else {
            const d = list[m.which].data;
            ms[m.which] = { ...list[m.which], data: m.by < 0 ? d.slice(0, Math.max(0, d.length + m.by)) : Uint8Array.from([...d, ...new Uint8Array(m.by)]) };
          }
          const got = loadOrRefuse(writeZip(ms), file);
          // an unreferenced extra member changes nothing
          if (m.kind === 'copy') expect(got && Object.fromEntries([...got].map(([k, t]) => [k, values(t)]))).toEqual(base.want);
        },
      ),
      { numRuns: Math.min(RUNS, 150) },
    );
  });

  it('random well-formed object graphs (nested dicts, lists, memo references, views): a consistent load or a typed error', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(graphArb, (root) => {
        loadOrRefuse(writeZip(members(writeGraph(root), base.storages)), 'graph.pt');
      }),
      { numRuns: RUNS },
    );
  });

  it.skipIf(!existsSync(MODEL))("mutations of guided-diffusion's real data.pkl: a consistent load or a typed error", { timeout: FUZZ_MS }, () => {
    const real = new ZipArchive(new Uint8Array(readFileSync(MODEL)), 'model.pt');
    const list = real.names().map((name) => ({ name, data: real.read(name) }));
    const pklAt = list.findIndex((m) => m.name.endsWith('/data.pkl'));
    fc.assert(
      fc.property(fc.array(fc.oneof(mutationArb, fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(...OPCODES) })), { minLength: 1, maxLength: 3 }), (ms) => {
        const copy = [...list];
        copy[pklAt] = { ...list[pklAt], data: mutate(list[pklAt].data, ms) };
        loadOrRefuse(writeZip(copy), 'model-fuzz.pt');
      }),
      { numRuns: Math.max(10, Math.round(RUNS / 10)) },
    );
  });
});

describe('readTorchCheckpoint property tests (legacy format)', () => {
  it('byte mutations, opcode replacements and changed storage counts of the legacy fixture: a consistent load or a typed error', { timeout: FUZZ_MS }, () => {
    const expected = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/legacy_state_dict.json', import.meta.url)), 'utf8')) as { storage_data_offset: number };
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('bytes' as const), ms: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('opcode' as const), at: fc.nat(expected.storage_data_offset - 1), op: fc.constantFrom(...OPCODES) }),
      fc.record({ kind: fc.constant('count' as const), value: fc.oneof(INTS.map(BigInt), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let b: Uint8Array = LEGACY.slice();
        for (const e of edits) {
          if (e.kind === 'bytes') b = mutate(b, e.ms);
          else if (e.kind === 'opcode') b[e.at % b.length] = e.op;
          else if (b.length >= expected.storage_data_offset + 8) new DataView(b.buffer).setBigInt64(expected.storage_data_offset, e.value, true);
        }
        loadOrRefuse(b, 'legacy.pth');
      }),
      { numRuns: RUNS },
    );
  });
});
