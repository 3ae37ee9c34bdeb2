import fc from 'fast-check';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { AdmError, TensorFileError } from '../errors.js';
import { FUZZ_MS, RUNS, mutate, mutationArb } from './fuzz-test-utils.js';
import { parseNpz, serializeNpz } from './npy.js';
import { ZipArchive, crc32, writeZip } from './zip.js';

const enc = new TextEncoder();
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

/** writeZip's layout split up: local records, one central directory record per member, the end record. */
function split(zip: Uint8Array) {
  const eocd = zip.length - 22;
  const cdOffset = u32(zip, eocd + 16);
  const entries: Uint8Array[] = [];
  for (let p = cdOffset; p < eocd; ) {
    const len = 46 + (zip[p + 28] | (zip[p + 29] << 8));
    entries.push(zip.slice(p, p + len));
    p += len;
  }
  return { locals: zip.slice(0, cdOffset), entries, eocd: zip.slice(eocd) };
}

/** Reassemble with new central directory records; the end record's count and size follow unless `keepEnd`. */
function join(parts: { locals: Uint8Array; entries: Uint8Array[]; eocd: Uint8Array }, keepEnd = false): Uint8Array {
  const cdSize = parts.entries.reduce((s, e) => s + e.length, 0);
  const eocd = parts.eocd.slice();
  const dv = new DataView(eocd.buffer);
  if (!keepEnd) {
    dv.setUint16(8, parts.entries.length, true);
    dv.setUint16(10, parts.entries.length, true);
    dv.setUint32(12, cdSize, true);
  }
  const out = new Uint8Array(parts.locals.length + cdSize + 22);
  out.set(parts.locals);
  let p = parts.locals.length;
  for (const e of parts.entries) {
    out.set(e, p);
    p += e.length;
  }
  out.set(eocd, p);
  return out;
}

/** A central directory record with `extra` appended as its extra field. */
function withExtra(entry: Uint8Array, extra: number[]): Uint8Array {
  const out = new Uint8Array(entry.length + extra.length);
  out.set(entry);
  out.set(extra, entry.length);
  new DataView(out.buffer).setUint16(30, extra.length, true);
  return out;
}

/** A one-member archive deflated at `level` (0 gives stored deflate blocks, whose payload bytes can flip without breaking the stream). */
function deflatedZip(name: string, data: Uint8Array, level: 0 | 6): Uint8Array {
  const zip = writeZip([{ name, data: deflateSync(data, { level }) }]);
  const dv = new DataView(zip.buffer);
  const cd = u32(zip, zip.length - 6);
  for (const [o, v] of [[8, 8], [cd + 10, 8]]) dv.setUint16(o, v, true);
  for (const [o, v] of [[14, crc32(data)], [22, data.length], [cd + 16, crc32(data)], [cd + 24, data.length]]) dv.setUint32(o, v, true);
  return zip;
}

const members = [
  { name: 'a.npy', data: enc.encode('alpha '.repeat(40)) },
  { name: 'dir/b.bin', data: Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255) },
  { name: 'c.txt', data: enc.encode('3\n') },
];

describe('ZipArchive on malformed archives', () => {
  it('refuses a zip64 extra record at the end of the central directory that lacks its fields (was a DataView RangeError)', () => {
    const parts = split(writeZip(members));
    const last = parts.entries.length - 1;
    const e = parts.entries[last];
    const localOffset = u32(e, 42);
    for (const o of [20, 24, 42]) new DataView(e.buffer).setUint32(o, 0xffffffff, true);
    parts.entries[last] = withExtra(e, [1, 0, 0, 0]);
    expect(() => new ZipArchive(join(parts), 'z64.zip')).toThrow(TensorFileError);
    expect(() => new ZipArchive(join(parts), 'z64.zip')).toThrow(/z64\.zip: zip member "c\.txt": zip64 extra field of 0 bytes lacks its size/);
    // the same record with its three 64-bit values reads back
    const full = new Uint8Array(28);
    const fv = new DataView(full.buffer);
    fv.setUint16(0, 1, true);
    fv.setUint16(2, 24, true);
    fv.setBigUint64(4, 2n, true);
    fv.setBigUint64(12, 2n, true);
    fv.setBigUint64(20, BigInt(localOffset), true);
    parts.entries[last] = withExtra(e, [...full]);
    expect(new TextDecoder().decode(new ZipArchive(join(parts), 'z64ok.zip').read('c.txt'))).toBe('3\n');
  });

  it('refuses a wrong central directory size and an end record count that hides members (was accepted)', () => {
    const zip = writeZip(members);
    const eocd = zip.length - 22;
    const patched = (o: number, v: number, bytes: 2 | 4) => {
      const z = zip.slice();
      const dv = new DataView(z.buffer);
      if (bytes === 2) dv.setUint16(eocd + o, v, true);
      else dv.setUint32(eocd + o, v, true);
      return z;
    };
    const cdSize = u32(zip, eocd + 12);
    expect(() => new ZipArchive(patched(12, cdSize - 1, 4), 'short.zip')).toThrow(/short\.zip: central directory size \d+ at byte \d+ does not reach the end record/);
    expect(() => new ZipArchive(patched(12, cdSize + 1, 4), 'long.zip')).toThrow(/long\.zip: truncated: central directory at \d+\+\d+ lies beyond the end record/);
    // count 2 of 3 in both fields, size unchanged: the third entry would be hidden
    const hide = patched(8, 2, 2);
    new DataView(hide.buffer).setUint16(eocd + 10, 2, true);
    expect(() => new ZipArchive(hide, 'hide.zip')).toThrow(/hide\.zip: the end record declares 2 entries but the central directory holds more/);
    // count and size both shrunk to hide the last entry: the directory no longer ends at the end record
    const parts = split(zip);
    const hidden = join({ ...parts, entries: parts.entries.slice(0, 2) });
    const withTail = new Uint8Array(hidden.length + parts.entries[2].length);
    withTail.set(hidden.subarray(0, hidden.length - 22));
    withTail.set(parts.entries[2], hidden.length - 22);
    withTail.set(hidden.subarray(hidden.length - 22), hidden.length - 22 + parts.entries[2].length);
    expect(() => new ZipArchive(withTail, 'tail.zip')).toThrow(/tail\.zip: central directory size \d+ at byte \d+ does not reach the end record/);
  });

  it('refuses npz members whose CRC-32 does not match, stored and deflated (were accepted with corrupt data)', () => {
    const npz = serializeNpz({ a: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
    const flipped = npz.slice();
    flipped[flipped.indexOf(0x40, 100)] ^= 1; // a byte of 2.0f's exponent inside the stored member
    expect(() => parseNpz(flipped, 'flip.npz')).toThrow(/flip\.npz: zip member "a\.npy": CRC-32 is 0x[0-9a-f]{8}, the archive records 0x[0-9a-f]{8}: the data is corrupt/);
    const data = enc.encode('numpy data '.repeat(20));
    const deflated = deflatedZip('x.bin', data, 0);
    expect(new ZipArchive(deflated, 'ok.zip').read('x.bin')).toEqual(data);
    const bad = deflated.slice();
    bad[60] ^= 0x20; // inside the stored deflate block's payload: still inflates, to the wrong bytes
    expect(() => new ZipArchive(bad, 'bad.zip').read('x.bin')).toThrow(/bad\.zip: zip member "x\.bin": CRC-32 is/);
  });

  it('refuses duplicate, absolute and ".." member names', () => {
    const twice = writeZip([members[0], { name: 'a.npy', data: enc.encode('other') }]);
    expect(() => parseNpz(twice, 'twice.npz')).toThrow(/twice\.npz: zip member "a\.npy" appears twice in the central directory/);
    for (const [name, why] of [
      ['../up.npy', 'climbs out of the archive'],
      ['a/../../up.npy', 'climbs out of the archive'],
      ['a\\..\\up.npy', 'climbs out of the archive'],
      ['/etc/passwd', 'is an absolute path'],
      ['C:/x.npy', 'is an absolute path'],
      ['', 'is empty'],
    ]) {
      expect(() => new ZipArchive(writeZip([{ name, data: new Uint8Array(1) }]), 'names.zip'), name).toThrow(new RegExp(`names\\.zip: zip member name .* ${why}`));
    }
  });

  it('refuses a deflated member declaring more bytes than deflate can produce, before allocating them', () => {
    const zip = deflatedZip('x.bin', new Uint8Array(10), 6);
    const cd = u32(zip, zip.length - 6);
    new DataView(zip.buffer).setUint32(cd + 24, 0xfffffff0, true);
    expect(() => new ZipArchive(zip, 'bomb.zip')).toThrow(/bomb\.zip: deflated zip member "x\.bin" declares 4294967280 bytes from \d+ compressed, more than deflate can produce/);
  });

  it('refuses two central directory entries for one local record (a member duplicated under another name)', () => {
    const parts = split(writeZip(members));
    const copy = parts.entries[0].slice();
    copy.set(enc.encode('A'), 46); // "A.npy", pointing at a.npy's local header
    const zip = new ZipArchive(join({ ...parts, entries: [...parts.entries, copy] }), 'alias.zip');
    expect(() => zip.read('A.npy')).toThrow(/alias\.zip: zip member "A\.npy": the local header at byte 0 is for "a\.npy"/);
  });
});

/** 16- and 32-bit fields a zip reader trusts: offsets within the end record, a central directory record and a local header. */
const EOCD_FIELDS: Array<[number, 2 | 4]> = [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];
const CENTRAL_FIELDS: Array<[number, 2 | 4]> = [[8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]];
const LOCAL_FIELDS: Array<[number, 2 | 4]> = [[6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]];
const fieldValue = fc.oneof(fc.constantFrom(0, 1, 22, 46, 0xffff, 0xffffffff, 0x7fffffff), fc.nat(), fc.nat(0xffff));

/** The outcome the reader owes any input: the original members' exact bytes (CRC-checked), or a typed error naming the file. */
function expectIntactOrRefused(bytes: Uint8Array, file: string, original: Map<string, Uint8Array>): void {
  let got: Map<string, Uint8Array>;
  try {
    const zip = new ZipArchive(bytes, file);
    got = new Map(zip.names().map((n) => [n, zip.read(n)]));
  } catch (e) {
    if (!(e instanceof AdmError)) throw e;
    expect(e).toBeInstanceOf(TensorFileError);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    return;
  }
  for (const [name, data] of got) {
    expect(original.has(name), name).toBe(true);
    expect(Buffer.from(data).equals(Buffer.from(original.get(name)!)), name).toBe(true);
  }
}

describe('ZipArchive property tests', () => {
  const original = new Map(members.map((m) => [m.name, m.data]));
  const stored = writeZip(members);
  const deflated = writeZip(members, { compress: true });
  const archive = fc.constantFrom(['stored', stored] as const, ['deflated', deflated] as const);

  it('reads any byte-mutated archive back intact or refuses it with a TensorFileError', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(archive, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), ([kind, zip], ms) => expectIntactOrRefused(mutate(zip, ms), `${kind}.zip`, original)),
      { numRuns: RUNS },
    );
  });

  it('reads an archive with changed sizes, offsets, counts and names intact or refuses it', { timeout: FUZZ_MS }, () => {
    const where = fc.oneof(
      fc.record({ rec: fc.constant('eocd' as const), field: fc.constantFrom(...EOCD_FIELDS), entry: fc.constant(0) }),
      fc.record({ rec: fc.constant('central' as const), field: fc.constantFrom(...CENTRAL_FIELDS), entry: fc.nat(members.length - 1) }),
      fc.record({ rec: fc.constant('local' as const), field: fc.constantFrom(...LOCAL_FIELDS), entry: fc.nat(members.length - 1) }),
    );
    fc.assert(
      fc.property(archive, fc.array(fc.tuple(where, fieldValue), { minLength: 1, maxLength: 3 }), ([kind, zip], edits) => {
        const z = zip.slice();
        const dv = new DataView(z.buffer);
        const cdOffset = u32(zip, zip.length - 6);
        for (const [{ rec, field, entry }, value] of edits) {
          // record starts come from the unmodified archive, so every edit lands on a real field
          const { entries } = split(zip);
          const base =
            rec === 'eocd' ? zip.length - 22
            : rec === 'central' ? cdOffset + entries.slice(0, entry).reduce((s, e) => s + e.length, 0)
            : u32(entries[entry], 42);
          if (field[1] === 2) dv.setUint16(base + field[0], value & 0xffff, true);
          else dv.setUint32(base + field[0], value >>> 0, true);
        }
        expectIntactOrRefused(z, `${kind}-fields.zip`, original);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses any member duplicated in the central directory', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(archive, fc.nat(members.length - 1), fc.nat(members.length), ([kind, zip], which, at) => {
        const parts = split(zip);
        const entries = [...parts.entries];
        entries.splice(at, 0, parts.entries[which]);
        const file = `${kind}-dup.zip`;
        expect(() => new ZipArchive(join({ ...parts, entries }), file)).toThrow(new RegExp(`^${file}: zip member "${members[which].name}" appears twice`));
      }),
      { numRuns: Math.min(RUNS, 100) },
    );
  });
});
