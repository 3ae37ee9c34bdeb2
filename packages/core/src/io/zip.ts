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

/**
 * A read-only zip archive (PyTorch checkpoints, .npz). Reads the central directory,
 * supports stored and deflated members and zip64 sizes; every offset is bounds-checked.
 */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(
    private readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.byteLength;
    // End of central directory: scan back over at most 64 KiB of comment.
    let eocd = -1;
    for (let i = n - 22; i >= Math.max(0, n - 22 - 65535); i--) {
      if (dv.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new TensorFileError(file, 'not a zip archive or truncated (no end-of-central-directory record)');
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (cdOffset === 0xffffffff || count === 0xffff) {
      const loc = eocd - 20;
      if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw new TensorFileError(file, 'zip64 locator missing');
      const z64 = Number(dv.getBigUint64(loc + 8, true));
      if (z64 + 56 > n || dv.getUint32(z64, true) !== 0x06064b50) throw new TensorFileError(file, 'zip64 end record out of range');
      count = Number(dv.getBigUint64(z64 + 32, true));
      cdSize = Number(dv.getBigUint64(z64 + 40, true));
      cdOffset = Number(dv.getBigUint64(z64 + 48, true));
    }
    if (cdOffset + cdSize > n) throw new TensorFileError(file, `truncated: central directory at ${cdOffset}+${cdSize} lies beyond the ${n}-byte file`);
    let p = cdOffset;
    const dec = new TextDecoder();
    for (let k = 0; k < count; k++) {
      if (p + 46 > n || dv.getUint32(p, true) !== 0x02014b50) throw new TensorFileError(file, `corrupt central directory entry ${k}`);
      const method = dv.getUint16(p + 10, true);
      const crc32 = dv.getUint32(p + 16, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let size = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localOffset = dv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen > n) throw new TensorFileError(file, `corrupt central directory entry ${k}`);
      const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field (id 1) holds the 64-bit values that overflowed, in order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (id === 1) {
          let q = e + 4;
          if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = Number(dv.getBigUint64(q, true)); q += 8; }
          if (localOffset === 0xffffffff) { localOffset = Number(dv.getBigUint64(q, true)); q += 8; }
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, crc32, localOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The uncompressed bytes of a member (a view when stored). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new TensorFileError(this.file, `zip member "${name}" not found`);
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const n = this.bytes.byteLength;
    if (e.localOffset + 30 > n || dv.getUint32(e.localOffset, true) !== 0x04034b50) {
      throw new TensorFileError(this.file, `truncated or corrupt local header of zip member "${name}"`);
    }
    const start = e.localOffset + 30 + dv.getUint16(e.localOffset + 26, true) + dv.getUint16(e.localOffset + 28, true);
    if (start + e.compressedSize > n) {
      throw new TensorFileError(this.file, `truncated: zip member "${name}" needs ${e.compressedSize} bytes at ${start}, the file has ${n}`);
    }
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      let out: Uint8Array;
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new TensorFileError(this.file, `zip member "${name}" does not inflate (${(err as Error).message})`);
      }
      if (out.byteLength !== e.size) throw new TensorFileError(this.file, `zip member "${name}" inflated to ${out.byteLength} bytes, expected ${e.size}`);
      return out;
    }
    throw new TensorFileError(this.file, `zip member "${name}" uses unsupported compression method ${e.method}`);
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (zip, PNG); pass the CRC of the preceding bytes as `crc` to continue it. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
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
