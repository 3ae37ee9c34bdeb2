import { TensorFileError } from '../errors.js';
import { DTYPE_BYTES, type DType, type HostTensor, bytesOf, shapeSize, typedFromBytes } from './dtypes.js';
import { ZipArchive, writeZip } from './zip.js';

// NumPy .npy / .npz (the guided-diffusion sample scripts and evaluator use these).

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f8': 'F64', '<f4': 'F32', '<f2': 'F16', '<i8': 'I64', '<i4': 'I32', '<i2': 'I16',
  '|i1': 'I8', '|u1': 'U8', '|b1': 'BOOL', '<u1': 'U8', '<i1': 'I8',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  F64: '<f8', F32: '<f4', F16: '<f2', I64: '<i8', I32: '<i4', I16: '<i2', I8: '|i1', U8: '|u1', BOOL: '|b1',
};

/** Parse one .npy array (C order; little-endian). */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): HostTensor {
  if (bytes.byteLength < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new TensorFileError(file, 'not a .npy array (bad magic)');
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > bytes.byteLength) throw new TensorFileError(file, 'truncated .npy header');
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new TensorFileError(file, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  }
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) throw new TensorFileError(file, `unsupported .npy dtype ${descr} (expected little-endian float/int/uint8/bool)`);
  if (fortran === 'True') throw new TensorFileError(file, 'Fortran-order .npy arrays are not supported; save with C order');
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new TensorFileError(file, `bad .npy shape (${shapeStr})`);
  const start = hstart + hlen;
  const need = shapeSize(shape) * DTYPE_BYTES[dtype];
  if (bytes.byteLength - start < need) {
    throw new TensorFileError(file, `truncated .npy data: shape [${shape.join(', ')}] ${descr} needs ${need} bytes, ${bytes.byteLength - start} present`);
  }
  return { dtype, shape, data: typedFromBytes(dtype, bytes.subarray(start, start + need)) };
}

export function serializeNpy(t: HostTensor): Uint8Array {
  const descr = DTYPE_TO_DESCR[t.dtype];
  if (!descr) throw new TensorFileError('<npy>', `dtype ${t.dtype} cannot be written to .npy`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + hb.byteLength + t.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, hb.byteLength, true);
  out.set(hb, 10);
  out.set(bytesOf(t.data), 10 + hb.byteLength);
  return out;
}

/** Parse an .npz (stored or deflate-compressed) into arrays keyed by name without ".npy". */
export function parseNpz(bytes: Uint8Array, file = '<npz>'): Map<string, HostTensor> {
  const zip = new ZipArchive(bytes, file);
  const out = new Map<string, HostTensor>();
  for (const name of zip.names()) {
    if (!name.endsWith('.npy')) continue;
    out.set(name.slice(0, -4), parseNpy(zip.read(name), `${file}:${name}`));
  }
  return out;
}

/** Serialize arrays to .npz (np.load reads it; order kept): stored like np.savez, or deflated like np.savez_compressed. */
export function serializeNpz(arrays: Record<string, HostTensor> | Map<string, HostTensor>, options: { compressed?: boolean } = {}): Uint8Array {
  const list = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  return writeZip(list.map(([name, t]) => ({ name: `${name}.npy`, data: serializeNpy(t) })), { compress: options.compressed });
}
