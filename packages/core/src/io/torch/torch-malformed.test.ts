import { describe, expect, it } from 'vitest';
import { TensorFileError } from '../../errors.js';
import { readTorchCheckpoint } from './torch-checkpoint.js';
import { Pickle, zipCheckpoint } from './torch-test-utils.js';

// Regressions from fuzzing the .pt reader: each is the smallest file that showed a defect.
// Bombs must finish: vitest's per-test timeout (BOMB_MS) fails a test that hangs.
const BOMB_MS = 10_000;
const floats = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 0.5);

/** {w: float32 [4] tensor of storage "0"} plus whatever `more` adds to the top-level dict. */
function stateDict(more: (p: Pickle) => void = () => {}): Uint8Array {
  const p = new Pickle().orderedDict();
  p.str('w').tensor({ key: '0', numel: 4, size: [4], stride: [1] }).setitem();
  more(p);
  return p.bytes();
}

function load(pkl: Uint8Array, file: string, storages: Record<string, ArrayBufferView> = { 0: floats(4) }) {
  return readTorchCheckpoint(zipCheckpoint(pkl, storages), file);
}

describe('readTorchCheckpoint on malformed pickles', () => {
  it('refuses a dict that contains itself (was a stack overflow)', { timeout: BOMB_MS }, () => {
    const pkl = stateDict((p) => p.str('loop').dict().put(0).str('again').get(0).setitem().setitem());
    expect(() => load(pkl, 'cycle.pt')).toThrow(TensorFileError);
    expect(() => load(pkl, 'cycle.pt')).toThrow(/cycle\.pt: dict "loop\.again" contains itself \(through "loop"\)/);
  });

  it('refuses 10,000 nested dicts (was a stack overflow) and reads three', { timeout: BOMB_MS }, () => {
    const nested = (depth: number) =>
      stateDict((p) => {
        for (let i = 0; i < depth; i++) p.str('d').dict();
        p.str('v').tensor({ key: '0', numel: 4, size: [2], stride: [2], offset: 1 }).setitem();
        for (let i = 0; i < depth; i++) p.setitem();
      });
    expect(() => load(nested(10_000), 'deep.pt')).toThrow(/deep\.pt: dicts nest more than 64 deep at "d(\.d){63}"/);
    const ok = load(nested(3), 'three.pt');
    expect([...ok.keys()]).toEqual(['w', 'd.d.d.v']);
    expect(Array.from(ok.get('d.d.d.v')!.data as Float32Array)).toEqual([1.5, 3.5]);
  });

  it('reads a list APPENDed 200,000 items at once (was a stack overflow)', { timeout: BOMB_MS }, () => {
    const pkl = stateDict((p) => {
      p.str('steps').op(0x5d, 0x28);
      for (let i = 0; i < 200_000; i++) p.op(0x4b, i & 255); // BININT1
      p.op(0x65).setitem(); // APPENDS
    });
    const got = load(pkl, 'appends.pt');
    expect([...got.keys()]).toEqual(['w']);
    expect(Array.from(got.get('w')!.data as Float32Array)).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it('refuses 24 levels of a dict holding the previous one twice (was a 2^24-path hang) after a bounded walk', { timeout: BOMB_MS }, () => {
    const pkl = stateDict((p) => {
      p.str('x').dict().put(0).str('w').tensor({ key: '0', numel: 4, size: [1], stride: [1] }).setitem().op(0x30); // POP: d0 stays memoized
      for (let i = 1; i <= 24; i++) p.dict().str('a').get(i - 1).setitem().str('b').get(i - 1).setitem().put(i).op(0x30);
      p.get(24).setitem();
    });
    expect(() => load(pkl, 'shared.pt')).toThrow(/shared\.pt: the checkpoint's dicts hold more than 1048576 entries/);
  });

  it("loads one dict under two names as PyTorch does ({'model': sd, 'ema': sd}), its tensor read once", () => {
    const pkl = new Pickle()
      .dict()
      .str('model')
      .dict()
      .put(0)
      .str('w')
      .tensor({ key: '0', numel: 4, size: [4], stride: [1] })
      .setitem()
      .setitem()
      .str('ema')
      .get(0)
      .setitem()
      .bytes();
    const got = load(pkl, 'twice.pt');
    expect([...got.keys()].sort()).toEqual(['ema.w', 'model.w']);
    expect(got.get('ema.w')!.data).toBe(got.get('model.w')!.data);
    expect(Array.from(got.get('model.w')!.data as Float32Array)).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it('refuses a 1,000,000-byte LONG4 integer (was a quadratic hang)', { timeout: BOMB_MS }, () => {
    const big = new Uint8Array(1_000_000).fill(0x11);
    const pkl = stateDict((p) => p.str('n').op(0x8b, 0x40, 0x42, 0x0f, 0x00).raw(big).setitem());
    expect(() => load(pkl, 'long.pt')).toThrow(/long\.pt:archive\/data\.pkl: pickle: a 1000000-byte integer: a tensor checkpoint holds none wider than 16 bytes/);
    // int64 values (8-byte LONG1) still load
    const int64 = stateDict((p) => p.str('n').op(0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80).setitem());
    expect(load(int64, 'i64.pt').size).toBe(1);
  });

  it('refuses stride-0 views declaring 2^29..2^33 elements over 16 (were allocation errors or hangs) and reads a small one', { timeout: BOMB_MS }, () => {
    const view = (size: number[], stride: number[]) => new Pickle().orderedDict().str('w').tensor({ key: '0', numel: 16, size, stride }).setitem().bytes();
    const s16 = { 0: floats(16) };
    // 2^29 x float32 = 2 GiB: more than the file's 64 bytes of storage can back
    expect(() => load(view([1 << 29], [0]), 'b29.pt', s16)).toThrow(/b29\.pt \(tensor "w"\): materialising this view \(2147483648 bytes\) would bring the tensors to 2147483648 bytes from 64 bytes of storage/);
    expect(() => load(view([1 << 16, 1 << 17], [0, 0]), 'b33.pt', s16)).toThrow(/b33\.pt \(tensor "w"\): view \[65536, 131072\] has 8589934592 elements, more than a tensor may have/);
    // an expanded (broadcast) buffer of sane size is materialised like PyTorch's contiguous()
    const t = load(view([3, 2], [0, 1]), 'expand.pt', s16).get('w')!;
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data as Float32Array)).toEqual([0.5, 1.5, 0.5, 1.5, 0.5, 1.5]);
  });

  it('refuses one storage declared with two dtypes (was read as both)', () => {
    const pkl = stateDict((p) => p.str('i').tensor({ key: '0', numel: 4, size: [4], stride: [1], storage: 'IntStorage' }).setitem());
    expect(() => load(pkl, 'dtypes.pt')).toThrow(/dtypes\.pt: storage 0 is declared both as 4 x F32 and as 4 x I32/);
  });

  it('refuses keys that flatten to the same name', () => {
    const pkl = new Pickle()
      .orderedDict()
      .str('a.b')
      .tensor({ key: '0', numel: 4, size: [1], stride: [1] })
      .setitem()
      .str('a')
      .dict()
      .str('b')
      .tensor({ key: '0', numel: 4, size: [1], stride: [1], offset: 1 })
      .setitem()
      .setitem()
      .bytes();
    expect(() => load(pkl, 'names.pt')).toThrow(/names\.pt \(tensor "a\.b"\): two tensors flatten to the name "a\.b"/);
  });

  it('gives one tensor object reached under two names the same data, once', () => {
    const pkl = new Pickle().orderedDict().str('a').tensor({ key: '0', numel: 4, size: [2], stride: [1], offset: 2 }).put(0).setitem().str('b').get(0).setitem().bytes();
    const got = load(pkl, 'tied.pt');
    expect(Array.from(got.get('b')!.data as Float32Array)).toEqual([2.5, 3.5]);
    expect(got.get('b')!.data).toBe(got.get('a')!.data);
  });

  it('refuses zip checkpoints with a duplicate or escaping storage member, or two data.pkl', async () => {
    const { writeZip } = await import('../zip.js');
    const pkl = stateDict();
    const member = (name: string, v: number) => ({ name, data: new Uint8Array(floats(4).map((x) => x + v).buffer) });
    const dup = writeZip([{ name: 'archive/data.pkl', data: pkl }, member('archive/data/0', 0), member('archive/data/0', 100)]);
    expect(() => readTorchCheckpoint(dup, 'dup.pt')).toThrow(/dup\.pt: zip member "archive\/data\/0" appears twice in the central directory/);
    const escape = writeZip([{ name: 'archive/data.pkl', data: pkl }, member('archive/data/0', 0), member('archive/../evil', 0)]);
    expect(() => readTorchCheckpoint(escape, 'escape.pt')).toThrow(/escape\.pt: zip member name "archive\/\.\.\/evil" climbs out of the archive/);
    const two = writeZip([{ name: 'a/data.pkl', data: pkl }, { name: 'b/data.pkl', data: pkl }, member('a/data/0', 0)]);
    expect(() => readTorchCheckpoint(two, 'two.pt')).toThrow(/two\.pt: ambiguous PyTorch checkpoint: the zip holds 2 data\.pkl members/);
  });

  it('refuses huge INT text and out-of-range UNICODE escapes with typed errors', () => {
    const text = (line: string, op: number) => stateDict((p) => p.str('x').raw(Uint8Array.of(op, ...new TextEncoder().encode(`${line}\n`))).setitem());
    expect(() => load(text('9'.repeat(1000), 0x49), 'int.pt')).toThrow(/int\.pt:archive\/data\.pkl: pickle: a 1000-digit INT/);
    expect(() => load(text('\\UFFFFFFFF', 0x56), 'uni.pt')).toThrow(/uni\.pt:archive\/data\.pkl: pickle: UNICODE escape \\UFFFFFFFF is beyond U\+10FFFF/);
  });
});
