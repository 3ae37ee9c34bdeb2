import { deflateSync, inflateSync } from 'fflate';
import { TensorFileError } from '../errors.js';

/** One member of a zip archive. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the member's local header. */
  localOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Deflate cannot expand data by more than ~1032:1, so a larger declared size is a lie (or a bomb). */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A read-only zip archive (PyTorch checkpoints, .npz). Reads the central directory,
 * supports stored and deflated members and zip64 sizes. Every read is bounds-checked;
 * the archive must be self-consistent as zip readers that refuse corrupt files expect
 * (central directory size and count agree with its entries, no duplicate, absolute or
 * `..` member names), and every member read is checked against its CRC-32. Anything
 * else is a TensorFileError naming the file.
 */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  /** Where the central directory starts: member data must end before it. */
  private readonly cdOffset: number;
  /** Members whose CRC has been checked once already. */
  private readonly verified = new Set<string>();

  constructor(
    private readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.byteLength;
    const fail = (detail: string): never => {
      throw new TensorFileError(file, detail);
    };
    // End of central directory: scan back over at most 64 KiB of comment.
    let eocd = -1;
    for (let i = n - 22; i >= Math.max(0, n - 22 - 65535); i--) {
      if (dv.getUint32(i, true) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('not a zip archive or truncated (no end-of-central-directory record)');
    if (eocd + 22 + dv.getUint16(eocd + 20, true) > n) fail(`truncated: the end-of-central-directory comment runs past the ${n}-byte file`);
    if (dv.getUint16(eocd + 4, true) !== 0 || dv.getUint16(eocd + 6, true) !== 0) fail('multi-disk (split) zip archives are not supported');
    let count = dv.getUint16(eocd + 10, true);
    let countHere = dv.getUint16(eocd + 8, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    // The central directory ends where the end record (zip64's when present) begins.
    let cdEnd = eocd;
    const loc = eocd - 20;
    if (loc >= 0 && dv.getUint32(loc, true) === ZIP64_LOCATOR_SIG) {
      const z64big = dv.getBigUint64(loc + 8, true);
      const z64 = Number(z64big);
      if (z64big > BigInt(loc - 56) || dv.getUint32(z64, true) !== ZIP64_EOCD_SIG) fail(`zip64 end record at byte ${z64big} is missing or out of range`);
      const big = (o: number, what: string, sentinel: number, plain: number) => {
        const v = dv.getBigUint64(z64 + o, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`zip64 ${what} ${v} is out of range`);
        // the 32/16-bit field must agree unless it is the "see zip64" marker
        if (plain !== sentinel && BigInt(plain) !== v) fail(`zip64 ${what} ${v} disagrees with the end record's ${plain}`);
        return Number(v);
      };
      countHere = big(24, 'entry count on this disk', 0xffff, countHere);
      count = big(32, 'entry count', 0xffff, count);
      cdSize = big(40, 'central directory size', 0xffffffff, cdSize);
      cdOffset = big(48, 'central directory offset', 0xffffffff, cdOffset);
      cdEnd = z64;
    } else if (cdOffset === 0xffffffff || cdSize === 0xffffffff || count === 0xffff) {
      fail('zip64 locator missing');
    }
    if (countHere !== count) fail(`the end record counts ${countHere} entries on this disk but ${count} in total (split archives are not supported)`);
    if (cdOffset + cdSize > cdEnd) fail(`truncated: central directory at ${cdOffset}+${cdSize} lies beyond the end record at byte ${cdEnd} of the ${n}-byte file`);
    if (cdOffset + cdSize !== cdEnd) fail(`central directory size ${cdSize} at byte ${cdOffset} does not reach the end record at byte ${cdEnd}: wrong size or offset, or hidden data`);
    this.cdOffset = cdOffset;

    let p = cdOffset;
    const dec = new TextDecoder();
    for (let k = 0; k < count; k++) {
      if (p + 46 > cdEnd) fail(`the end record declares ${count} entries but the central directory holds only ${k}`);
      if (dv.getUint32(p, true) !== CENTRAL_SIG) fail(`corrupt central directory entry ${k} at byte ${p}`);
      const flags = dv.getUint16(p + 8, true);
      const method = dv.getUint16(p + 10, true);
      const crc32 = dv.getUint32(p + 16, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let size = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localOffset = dv.getUint32(p + 42, true);
      const next = p + 46 + nameLen + extraLen + commentLen;
      if (next > cdEnd) fail(`corrupt central directory entry ${k}: its name, extra field and comment run past the central directory`);
      const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field (id 1) holds the 64-bit values that overflowed, in order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        const recEnd = e + 4 + len;
        if (recEnd > eEnd) fail(`zip member "${name}": extra field record 0x${id.toString(16)} of ${len} bytes runs past its ${extraLen}-byte extra field`);
        if (id === 1) {
          let q = e + 4;
          const next64 = (what: string) => {
            if (q + 8 > recEnd) fail(`zip member "${name}": zip64 extra field of ${len} bytes lacks its ${what}`);
            const v = dv.getBigUint64(q, true);
            q += 8;
            if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`zip member "${name}": zip64 ${what} ${v} is out of range`);
            return Number(v);
          };
          if (size === 0xffffffff) size = next64('size');
          if (compressedSize === 0xffffffff) compressedSize = next64('compressed size');
          if (localOffset === 0xffffffff) localOffset = next64('local header offset');
        }
        e = recEnd;
      }
      checkMemberName(name, file);
      if (this.entries.has(name)) fail(`zip member "${name}" appears twice in the central directory`);
      if (flags & 1) fail(`zip member "${name}" is encrypted`);
      if (method === 0 && size !== compressedSize) fail(`stored zip member "${name}" declares ${size} bytes but stores ${compressedSize}`);
      if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 64) {
        fail(`deflated zip member "${name}" declares ${size} bytes from ${compressedSize} compressed, more than deflate can produce`);
      }
      if (localOffset + 30 + compressedSize > cdOffset) fail(`zip member "${name}" at byte ${localOffset} (${compressedSize} bytes) overlaps the central directory at byte ${cdOffset}`);
      this.entries.set(name, { name, method, compressedSize, size, crc32, localOffset });
      p = next;
    }
    if (p !== cdEnd) fail(`the end record declares ${count} entries but the central directory holds more (${cdEnd - p} bytes after entry ${count})`);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The uncompressed bytes of a member (a view when stored), checked against its CRC-32. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new TensorFileError(this.file, `zip member "${name}" not found`);
    const fail = (detail: string): never => {
      throw new TensorFileError(this.file, `zip member "${name}": ${detail}`);
    };
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const lo = e.localOffset;
    if (lo + 30 > this.cdOffset || dv.getUint32(lo, true) !== LOCAL_SIG) fail(`truncated or corrupt local header at byte ${lo}`);
    const nameLen = dv.getUint16(lo + 26, true);
    const start = lo + 30 + nameLen + dv.getUint16(lo + 28, true);
    if (start + e.compressedSize > this.cdOffset) {
      fail(`truncated: needs ${e.compressedSize} bytes at ${start}, the member data ends at byte ${this.cdOffset} of ${this.bytes.byteLength}`);
    }
    // as Python's zipfile does: a local header under another name means a corrupt directory
    const localName = new TextDecoder().decode(this.bytes.subarray(lo + 30, lo + 30 + nameLen));
    if (localName !== name) fail(`the local header at byte ${lo} is for "${localName}"`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        return fail(`does not inflate (${(err as Error).message})`);
      }
      if (out.byteLength !== e.size) fail(`inflated to ${out.byteLength} bytes, expected ${e.size}`);
    } else return fail(`uses unsupported compression method ${e.method}`);
    if (!this.verified.has(name)) {
      const crc = crc32(out);
      if (crc !== e.crc32) fail(`CRC-32 is 0x${hex8(crc)}, the archive records 0x${hex8(e.crc32)}: the data is corrupt`);
      this.verified.add(name);
    }
    return out;
  }
}

/** Refuse member names that would escape an extraction folder or cannot name a file. */
function checkMemberName(name: string, file: string): void {
  const bad =
    name.length === 0 ? 'is empty'
    : name.includes('\0') ? 'contains a NUL byte'
    : /^([/\\]|[A-Za-z]:)/.test(name) ? 'is an absolute path'
    : name.split(/[/\\]/).includes('..') ? 'climbs out of the archive with ".."'
    : undefined;
  if (bad) throw new TensorFileError(file, `zip member name ${JSON.stringify(name)} ${bad}`);
}

const hex8 = (v: number) => v.toString(16).padStart(8, '0');

/** Slicing-by-8 tables: table t maps a byte to its CRC contribution t bytes further on (4x faster than one table). */
const CRC_TABLES = (() => {
  const t = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) for (let k = 1; k < 8; k++) t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 0xff];
  return t;
})();

/** CRC-32 (zip, PNG); pass the CRC of the preceding bytes as `crc` to continue it. */
export function crc32(data: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  const n = data.length;
  const end = n - (n % 8);
  let i = 0;
  for (; i < end; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
      t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^ t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Write a zip archive; members are stored, or deflated with `compress` (as
 * np.savez_compressed does). Members must each be < 4 GiB.
 */
export function writeZip(members: Array<{ name: string; data: Uint8Array }>, options: { compress?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  const method = options.compress ? 8 : 0;
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const crc = crc32(m.data);
    const packed = options.compress ? deflateSync(m.data, { level: 6 }) : m.data;
    const lh = new Uint8Array(30 + name.length);
    const ld = new DataView(lh.buffer);
    ld.setUint32(0, 0x04034b50, true);
    ld.setUint16(4, 20, true);
    ld.setUint16(8, method, true);
    ld.setUint32(14, crc, true);
    ld.setUint32(18, packed.byteLength, true);
    ld.setUint32(22, m.data.byteLength, true);
    ld.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const cd = new DataView(ch.buffer);
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint16(10, method, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, packed.byteLength, true);
    cd.setUint32(24, m.data.byteLength, true);
    cd.setUint16(28, name.length, true);
    cd.setUint32(42, offset, true);
    ch.set(name, 46);
    locals.push(lh, packed);
    centrals.push(ch);
    offset += lh.byteLength + packed.byteLength;
  }
  const cdSize = centrals.reduce((s, c) => s + c.byteLength, 0);
  const eocd = new Uint8Array(22);
  const ed = new DataView(eocd.buffer);
  ed.setUint32(0, 0x06054b50, true);
  ed.setUint16(8, members.length, true);
  ed.setUint16(10, members.length, true);
  ed.setUint32(12, cdSize, true);
  ed.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}
