import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TensorFileError } from '../errors.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { SafetensorsReader, readSafetensorsFile, writeSafetensorsFile } from './node-files.js';
import { f16ToF32, f32ToF16, toFloat32 } from './dtypes.js';

/** Build a file from a raw header object and data bytes (to craft malformed files). */
function craft(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const text = headerText ?? JSON.stringify(header);
  const hb = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

function expectError(bytes: Uint8Array, pattern: RegExp, tensor?: string) {
  let err: unknown;
  try {
    parseSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TensorFileError);
  const te = err as TensorFileError;
  expect(te.file).toBe('bad.safetensors');
  expect(te.message).toMatch(pattern);
  if (tensor !== undefined) expect(te.tensor).toBe(tensor);
}

const f32 = (vals: number[]) => new Uint8Array(new Float32Array(vals).buffer);

describe('safetensors', () => {
  it('round-trips every dtype and keeps __metadata__', () => {
    const tensors = {
      f64: { dtype: 'F64' as const, shape: [2], data: new Float64Array([1.5, -2.25]) },
      f32: { dtype: 'F32' as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      f16: { dtype: 'F16' as const, shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
      bf16: { dtype: 'BF16' as const, shape: [1], data: new Uint16Array([0x3f80]) },
      i64: { dtype: 'I64' as const, shape: [2], data: new BigInt64Array([-5n, 7n]) },
      i32: { dtype: 'I32' as const, shape: [1], data: new Int32Array([-3]) },
      i16: { dtype: 'I16' as const, shape: [1], data: new Int16Array([-300]) },
      i8: { dtype: 'I8' as const, shape: [1], data: new Int8Array([-7]) },
      u8: { dtype: 'U8' as const, shape: [3], data: new Uint8Array([0, 128, 255]) },
      bool: { dtype: 'BOOL' as const, shape: [2], data: new Uint8Array([1, 0]) },
      empty: { dtype: 'F32' as const, shape: [0, 3], data: new Float32Array(0) },
    };
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'x' });
    const f = parseSafetensors(bytes, 'rt.safetensors');
    expect(f.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(f.names().sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = f.get(name);
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    expect(Array.from(toFloat32(f.get('f16')))).toEqual([1, -2]);
    expect(Array.from(toFloat32(f.get('bf16')))).toEqual([1]);
    // header padded to a multiple of 8, as the format requires
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
  });

  it('reads the guided-diffusion fixture (F32 and I64)', async () => {
    const f = await readSafetensorsFile(new URL('../../../../../shared/fixtures/guided-diffusion/unet_forward_a/tensors.safetensors', import.meta.url).pathname);
    const x = f.get('in.x');
    expect(x.dtype).toBe('F32');
    expect(x.shape).toEqual([2, 3, 32, 32]);
    expect(f.get('in.t').dtype).toBe('I64');
  });

  it('rejects a truncated file', () => {
    expectError(new Uint8Array([1, 2, 3]), /truncated/);
    const good = serializeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expectError(good.subarray(0, good.length - 3), /cover 16 bytes but the data section has 13|outside/);
  });

  it('rejects a header length larger than the file', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    expectError(b, /header length 1000 is larger than the 8 bytes/);
  });

  it('rejects invalid JSON', () => {
    expectError(craft(null, new Uint8Array(0), '{"a": {"dtype": '), /not valid JSON/);
    expectError(craft(null, new Uint8Array(0), '[1, 2]'), /must be an object/);
  });

  it('rejects offsets out of range', () => {
    expectError(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32([1])), /outside the 4-byte data section/, 'a');
    expectError(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32([1])), /end before they begin/, 'a');
    expectError(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, f32([1])), /non-negative integers/, 'a');
  });

  it('rejects overlapping offsets', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectError(craft(h, f32([1, 2, 3])), /overlap/, 'b');
  });

  it('rejects gaps in the data section', () => {
    const h = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expectError(craft(h, f32([1, 2])), /gap/, 'a');
  });

  it('rejects an unknown dtype', () => {
    expectError(craft({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype "F8"/, 'a');
  });

  it('rejects a shape that does not match the byte count', () => {
    expectError(craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32([1, 2])), /needs 12 bytes but data_offsets span 8/, 'a');
    expectError(craft({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32([1])), /shape must be an array of non-negative integers/, 'a');
  });

  it('rejects duplicate tensor names', () => {
    const text = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectError(craft(null, f32([1, 2]), text), /duplicate tensor name/, 'a');
  });

  it('rejects a malformed __metadata__', () => {
    expectError(craft({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__\["a"\] must be a string/);
  });

  it('streams tensors from disk and writes atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adm-st-'));
    const path = join(dir, 'm.safetensors');
    await writeSafetensorsFile(path, { w: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) } }, { k: 'v' });
    expect(await readdir(dir)).toEqual(['m.safetensors']); // no temporary left behind
    const r = await SafetensorsReader.open(path);
    try {
      expect(r.names()).toEqual(['w']);
      expect(Array.from((await r.get('w')).data as Float32Array)).toEqual([1, 2, 3]);
      expect(r.header.metadata).toEqual({ k: 'v' });
    } finally {
      await r.close();
    }
    const bad = join(dir, 'bad.safetensors');
    await writeFile(bad, new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 1]));
    await expect(SafetensorsReader.open(bad)).rejects.toThrow(/bad.safetensors: header length 9 is larger/);
    await expect(readSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing.safetensors: file not found/);
  });

  it('converts float16 both ways with round-to-nearest-even', () => {
    // independent values: 1 + 2^-10 is the half after 1; 1 + 2^-11 is a tie that rounds to even (1)
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(1 + 2 ** -10)).toBe(0x3c01);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
  });
});
