import { describe, expect, it } from 'vitest';
import { zlibSync, deflateSync } from 'fflate';
import { TensorFileError } from '../errors.js';
import { parseNpy, parseNpz, serializeNpy, serializeNpz } from './npy.js';
import { ZipArchive, crc32, writeZip } from './zip.js';

describe('npy / npz / zip', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips arrays through .npz', () => {
    const arr0 = { dtype: 'U8' as const, shape: [2, 2, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) };
    const arr1 = { dtype: 'I64' as const, shape: [2], data: new BigInt64Array([3n, 9n]) };
    const back = parseNpz(serializeNpz({ arr_0: arr0, arr_1: arr1 }), 's.npz');
    expect([...back.keys()]).toEqual(['arr_0', 'arr_1']);
    expect(back.get('arr_0')!.shape).toEqual([2, 2, 2, 3]);
    expect(Array.from(back.get('arr_0')!.data as Uint8Array)).toEqual(Array.from(arr0.data));
    expect(Array.from(back.get('arr_1')!.data as BigInt64Array)).toEqual([3n, 9n]);
  });

  it('writes the .npy header numpy expects', () => {
    const b = serializeNpy({ dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) });
    const hlen = new DataView(b.buffer).getUint16(8, true);
    const header = new TextDecoder().decode(b.subarray(10, 10 + hlen));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
    expect((10 + hlen) % 64).toBe(0);
  });

  it('reads deflate-compressed members (np.savez_compressed)', () => {
    const npy = serializeNpy({ dtype: 'F64', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
    // craft a compressed archive by hand: stored writer output with the member deflated
    const raw = deflateSync(npy);
    expect(zlibSync(npy).length).toBeGreaterThan(0);
    const zip = writeZip([{ name: 'mu.npy', data: raw }]);
    const dv = new DataView(zip.buffer);
    dv.setUint16(8, 8, true); // local header: method deflate
    dv.setUint32(22, npy.length, true); // local: uncompressed size
    const cd = dv.getUint32(zip.length - 6, true);
    dv.setUint16(cd + 10, 8, true);
    dv.setUint32(cd + 24, npy.length, true);
    // the CRC-32 is of the uncompressed member
    dv.setUint32(14, crc32(npy), true);
    dv.setUint32(cd + 16, crc32(npy), true);
    const arrays = parseNpz(zip, 'c.npz');
    expect(Array.from(arrays.get('mu')!.data as Float64Array)).toEqual([1, 2, 3, 4]);
  });

  it('writes deflated .npz members that read back (np.savez_compressed layout)', () => {
    const a = { dtype: 'F32' as const, shape: [64], data: new Float32Array(64).fill(0.5) };
    const bytes = serializeNpz({ a }, { compressed: true });
    expect(bytes.length).toBeLessThan(serializeNpz({ a }).length);
    const zip = new ZipArchive(bytes, 'z.npz');
    expect(zip.entries.get('a.npy')!.method).toBe(8);
    expect(Array.from(parseNpz(bytes).get('a')!.data as Float32Array)).toEqual(Array.from(a.data));
  });

  it('continues a CRC across parts', () => {
    const d = new TextEncoder().encode('123456789');
    expect(crc32(d.subarray(4), crc32(d.subarray(0, 4)))).toBe(0xcbf43926);
  });

  it('rejects truncated archives and arrays with a clear error', () => {
    const z = serializeNpz({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => new ZipArchive(z.subarray(0, 40), 't.npz')).toThrow(TensorFileError);
    expect(() => new ZipArchive(z.subarray(0, 40), 't.npz')).toThrow(/t.npz: not a zip archive or truncated/);
    const npy = serializeNpy({ dtype: 'F32', shape: [4], data: new Float32Array(4) });
    expect(() => parseNpy(npy.subarray(0, npy.length - 4), 'x.npy')).toThrow(/x.npy: truncated .npy data/);
    expect(() => parseNpy(new Uint8Array(20), 'y.npy')).toThrow(/bad magic/);
  });
});
