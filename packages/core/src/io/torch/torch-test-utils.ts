import { writeZip } from '../zip.js';

/**
 * Test helpers: a tiny pickle writer (protocol 2 opcodes) and zip checkpoints built with
 * it, so tests make their own (malformed) files instead of committing binaries.
 */
export class Pickle {
  private parts: number[] = [0x80, 2];
  private enc = new TextEncoder();
  /** Byte offsets of every 4-byte BININT operand written, for tests that change sizes and offsets. */
  readonly intOperands: number[] = [];

  op(...b: number[]) {
    for (const x of b) this.parts.push(x);
    return this;
  }
  /** Raw bytes, pushed one by one (a spread of a million arguments would overflow the stack). */
  raw(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
    return this;
  }
  global(module: string, name: string) {
    return this.raw(Uint8Array.of(0x63, ...this.enc.encode(`${module}\n${name}\n`)));
  }
  str(s: string) {
    const b = this.enc.encode(s);
    return this.op(0x58, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, 0).raw(b);
  }
  int(v: number) {
    this.intOperands.push(this.parts.length + 1);
    return this.op(0x4a, v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  }
  ints(vs: number[]) {
    this.op(0x28);
    for (const v of vs) this.int(v);
    return this.op(0x74);
  }
  /** LONG_BINPUT / LONG_BINGET: memoize the top of the stack, push a memoized value. */
  put(i: number) {
    return this.op(0x72, i & 255, (i >> 8) & 255, 0, 0);
  }
  get(i: number) {
    return this.op(0x6a, i & 255, (i >> 8) & 255, 0, 0);
  }
  /** EMPTY_DICT / SETITEM: a dict, and key, value on the stack stored into the dict below them. */
  dict() {
    return this.op(0x7d);
  }
  setitem() {
    return this.op(0x73);
  }
  /** torch._utils._rebuild_tensor_v2 of storage `key` (numel elements of `storage` type). */
  tensor(t: { key: string; numel: number; size: number[]; stride: number[]; offset?: number; storage?: string }) {
    this.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    this.op(0x28).str('storage').global('torch', t.storage ?? 'FloatStorage').str(t.key).str('cpu').int(t.numel).op(0x74, 0x51);
    this.int(t.offset ?? 0).ints(t.size).ints(t.stride).op(0x89); // requires_grad False
    this.global('collections', 'OrderedDict').op(0x29, 0x52); // backward hooks
    return this.op(0x74, 0x52);
  }
  /** collections.OrderedDict() */
  orderedDict() {
    return this.global('collections', 'OrderedDict').op(0x29, 0x52);
  }
  bytes() {
    return Uint8Array.from([...this.parts, 0x2e]);
  }
}

/** A zip-format checkpoint (torch.save's layout): archive/data.pkl, archive/data/<key> per storage, archive/version. */
export function zipCheckpoint(pkl: Uint8Array, storages: Record<string, ArrayBufferView>, options: { compress?: boolean } = {}): Uint8Array {
  return writeZip(
    [
      { name: 'archive/data.pkl', data: pkl },
      ...Object.entries(storages).map(([key, v]) => ({ name: `archive/data/${key}`, data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) })),
      { name: 'archive/version', data: new TextEncoder().encode('3\n') },
    ],
    options,
  );
}
