import { describe, expect, it } from 'vitest';
import { TensorFileError } from '../errors.js';
import { parseNpy, serializeNpy } from './npy.js';

// Regressions from fuzzing the .npy reader: each is the smallest file that showed a defect.

/** A .npy file (version `major`) with this header text and data bytes. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const hb = new TextEncoder().encode(header);
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  return out;
}
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

function refusal(bytes: Uint8Array): string {
  try {
    parseNpy(bytes, 'a.npy');
  } catch (e) {
    expect(e).toBeInstanceOf(TensorFileError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('parseNpy on malformed files', () => {
  it('refuses version 2 and 3 files cut inside the preamble (was a DataView RangeError)', () => {
    const v2 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1), 2);
    expect(refusal(v2.subarray(0, 10))).toBe('a.npy: truncated .npy: 10 bytes, the version 2 preamble alone is 12');
    expect(refusal(v2.subarray(0, 11))).toMatch(/^a\.npy: truncated \.npy: 11 bytes/);
    expect(refusal(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1), 3).subarray(0, 10))).toMatch(/version 3 preamble/);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('refuses the dtype name %s (was accepted through Object.prototype)', (descr) => {
    expect(refusal(npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, f32(1)))).toBe(`a.npy: unsupported .npy dtype "${descr}" (expected little-endian float/int/uint8/bool)`);
  });

  it('takes the last of duplicate keys, as numpy (a dict literal) does', () => {
    const t = parseNpy(npy("{'descr': '<i4', 'shape': (9,), 'fortran_order': True, 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32(1.5, 2.5)), 'a.npy');
    expect(t.dtype).toBe('F32');
    expect(t.shape).toEqual([2]);
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, 2.5]);
  });

  it('refuses missing or extra keys and values of the wrong kind, as numpy does', () => {
    expect(refusal(npy("{'descr': '<f4', 'shape': (1,), }", f32(1)))).toMatch(/must hold exactly descr, fortran_order and shape, it holds "descr", "shape"/);
    expect(refusal(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", f32(1)))).toMatch(/must hold exactly/);
    expect(refusal(npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", f32(1)))).toBe('a.npy: fortran_order must be True or False');
    expect(refusal(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ((1,),)}", f32(1)))).toMatch(/nested containers/);
    expect(refusal(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", f32(1)))).toBe('a.npy: shape must be a tuple of non-negative integers');
    expect(refusal(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${'('.repeat(10_000)}`, f32(1)))).toMatch(/header/);
  });

  it('refuses a declared size the file does not hold, before allocating it', () => {
    expect(refusal(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", f32(1)))).toMatch(/truncated \.npy data: shape \[1000000000, 1000000000\] <f8 needs 8000000000000000000 bytes, 4 present/);
  });

  it('reads what serializeNpy writes', () => {
    const t = parseNpy(serializeNpy({ dtype: 'I32', shape: [2, 2], data: Int32Array.from([1, 2, 3, 4]) }), 'a.npy');
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data as Int32Array)).toEqual([1, 2, 3, 4]);
  });
});
