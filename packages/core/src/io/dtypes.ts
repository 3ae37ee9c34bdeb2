/** Tensor element types of the file formats we read (safetensors names). */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export type TypedArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** A host tensor: dtype, shape and little-endian data (F16/BF16 kept as raw Uint16 bits). */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** View `bytes` (little-endian) as the typed array of `dtype`, copying only when unaligned. */
export function typedFromBytes(dtype: DType, bytes: Uint8Array): TypedArray {
  const size = DTYPE_BYTES[dtype];
  let buf = bytes;
  if (bytes.byteOffset % size !== 0) buf = bytes.slice();
  const n = buf.byteLength / size;
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf.buffer, buf.byteOffset, n);
    case 'F32':
      return new Float32Array(buf.buffer, buf.byteOffset, n);
    case 'F16':
    case 'BF16':
      return new Uint16Array(buf.buffer, buf.byteOffset, n);
    case 'I64':
      return new BigInt64Array(buf.buffer, buf.byteOffset, n);
    case 'I32':
      return new Int32Array(buf.buffer, buf.byteOffset, n);
    case 'I16':
      return new Int16Array(buf.buffer, buf.byteOffset, n);
    case 'I8':
      return new Int8Array(buf.buffer, buf.byteOffset, n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
  }
}

export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** IEEE half -> float. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** float -> IEEE half bits, round to nearest even. */
export function f32ToF16(v: number): number {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

/** Any numeric host tensor as float32 values (F16/BF16 decoded, I64 via Number). */
export function toFloat32(t: HostTensor): Float32Array {
  const { dtype, data } = t;
  if (dtype === 'F32') return data as Float32Array;
  const n = data.length;
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    const d = data as Uint16Array;
    for (let i = 0; i < n; i++) out[i] = f16ToF32(d[i]);
  } else if (dtype === 'BF16') {
    const d = data as Uint16Array;
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = d[i] << 16;
  } else if (dtype === 'I64') {
    const d = data as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = Number(d[i]);
  } else {
    const d = data as Exclude<TypedArray, BigInt64Array | Uint16Array>;
    for (let i = 0; i < n; i++) out[i] = d[i];
  }
  return out;
}

/** Any numeric host tensor as float64 values. */
export function toFloat64(t: HostTensor): Float64Array {
  if (t.dtype === 'F64') return t.data as Float64Array;
  if (t.dtype === 'I64') return Float64Array.from(t.data as BigInt64Array, (v) => Number(v));
  return Float64Array.from(toFloat32(t));
}

/** Integer host tensor (I64/I32/...) as Int32 values; throws on values outside int32. */
export function toInt32(t: HostTensor): Int32Array {
  if (t.dtype === 'I32') return t.data as Int32Array;
  if (t.dtype === 'I64') {
    const d = t.data as BigInt64Array;
    const out = new Int32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = Number(d[i]);
      if (v > 2147483647 || v < -2147483648) throw new RangeError(`value ${v} does not fit int32`);
      out[i] = v;
    }
    return out;
  }
  return Int32Array.from(toFloat32(t), (v) => Math.trunc(v));
}
