import { deflateSync } from 'fflate';
import { type HostTensor, crc32, serializeNpy, serializeNpz } from '@adm/core';

/**
 * Serialize arrays to .npz; `compressed` deflates every member like np.savez_compressed
 * (core's serializeNpz stores them, like np.savez). Members must each stay below 4 GiB.
 */
export function serializeNpzFile(arrays: Map<string, HostTensor> | Record<string, HostTensor>, compressed = false): Uint8Array {
  if (!compressed) return serializeNpz(arrays);
  const list = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of list) {
    const name = enc.encode(`${key}.npy`);
    const data = serializeNpy(t);
    const packed = deflateSync(data, { level: 6 });
    const crc = crc32(data);
    const lh = new Uint8Array(30 + name.length);
    const ld = new DataView(lh.buffer);
    ld.setUint32(0, 0x04034b50, true);
    ld.setUint16(4, 20, true);
    ld.setUint16(8, 8, true);
    ld.setUint32(14, crc, true);
    ld.setUint32(18, packed.length, true);
    ld.setUint32(22, data.length, true);
    ld.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const cd = new DataView(ch.buffer);
    cd.setUint32(0, 0x02014b50, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint16(10, 8, true);
    cd.setUint32(16, crc, true);
    cd.setUint32(20, packed.length, true);
    cd.setUint32(24, data.length, true);
    cd.setUint16(28, name.length, true);
    cd.setUint32(42, offset, true);
    ch.set(name, 46);
    parts.push(lh, packed);
    centrals.push(ch);
    offset += lh.length + packed.length;
  }
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ed = new DataView(eocd.buffer);
  ed.setUint32(0, 0x06054b50, true);
  ed.setUint16(8, list.length, true);
  ed.setUint16(10, list.length, true);
  ed.setUint32(12, cdSize, true);
  ed.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...parts, ...centrals, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
