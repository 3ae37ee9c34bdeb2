import { TensorFileError } from '../errors.js';
import { DTYPE_BYTES, type DType, type HostTensor, bytesOf, typedFromBytes } from './dtypes.js';
import { ZipArchive, writeZip } from './zip.js';

// NumPy .npy / .npz (the guided-diffusion sample scripts and evaluator use these).

const DESCR_TO_DTYPE: ReadonlyMap<string, DType> = new Map<string, DType>([
  ['<f8', 'F64'], ['<f4', 'F32'], ['<f2', 'F16'], ['<i8', 'I64'], ['<i4', 'I32'], ['<i2', 'I16'],
  ['|i1', 'I8'], ['|u1', 'U8'], ['|b1', 'BOOL'], ['<u1', 'U8'], ['<i1', 'I8'],
]);
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  F64: '<f8', F32: '<f4', F16: '<f2', I64: '<i8', I32: '<i4', I16: '<i2', I8: '|i1', U8: '|u1', BOOL: '|b1',
};

/** numpy's own limit on a header it reads (np.load's max_header_size). */
const MAX_HEADER_BYTES = 10_000;

type HeaderValue = string | boolean | null | number | HeaderValue[];

/**
 * The header dict, read as numpy reads it (ast.literal_eval of a dict literal): string keys;
 * string, True/False/None, integer and tuple values; a key given twice keeps its last value.
 * Iterative over a flat token list, so no nesting can overflow anything.
 */
function parseHeaderDict(text: string, fail: (why: string) => never): Map<string, HeaderValue> {
  const tokens = text.match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[{}():,]|[A-Za-z_]+|[-+]?\d+L?|\S/g) ?? [];
  let i = 0;
  const next = () => tokens[i++];
  const scalar = (t: string | undefined): HeaderValue => {
    if (t === undefined) return fail('the header ends early');
    if (/^['"]/.test(t)) return t.slice(1, -1);
    if (t === 'True' || t === 'False') return t === 'True';
    if (t === 'None') return null;
    if (/^[-+]?\d+L?$/.test(t)) return Number(t.replace(/L$/, ''));
    return fail(`unexpected ${JSON.stringify(t.slice(0, 20))} in the header`);
  };
  const value = (): HeaderValue => {
    const t = next();
    if (t !== '(') return scalar(t);
    const items: HeaderValue[] = [];
    for (;;) {
      const u = next();
      if (u === ')') return items;
      if (u === '(' || u === '{') return fail('nested containers in a header value');
      items.push(scalar(u));
      const sep = next();
      if (sep === ')') return items;
      if (sep !== ',') return fail('a tuple in the header is not closed');
    }
  };
  if (next() !== '{') fail('the header is not a dict');
  const dict = new Map<string, HeaderValue>();
  for (;;) {
    const k = next();
    if (k === '}') break;
    if (k === undefined || !/^['"]/.test(k)) return fail('a header key is not a string');
    if (next() !== ':') fail('a header key has no value');
    dict.set(k.slice(1, -1), value());
    const sep = next();
    if (sep === '}') break;
    if (sep !== ',') fail('header entries are not separated by commas');
  }
  if (i < tokens.length) fail('text after the header dict');
  return dict;
}

/** Parse one .npy array (C order; little-endian). */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): HostTensor {
  const fail = (why: string): never => {
    throw new TensorFileError(file, why);
  };
  if (bytes.byteLength < 8 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') fail('not a .npy array (bad magic)');
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const hstart = major === 1 ? 10 : 12;
  if (bytes.byteLength < hstart) fail(`truncated .npy: ${bytes.byteLength} bytes, the version ${major} preamble alone is ${hstart}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hlen > MAX_HEADER_BYTES) fail(`the header declares ${hlen} bytes; numpy reads at most ${MAX_HEADER_BYTES}`);
  if (hstart + hlen > bytes.byteLength) fail('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const dict = parseHeaderDict(header, (why) => fail(`unreadable .npy header: ${why}`));
  const keys = [...dict.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') fail(`the header must hold exactly descr, fortran_order and shape, it holds ${keys.slice(0, 8).map((k) => JSON.stringify(k.slice(0, 30))).join(', ')}`);
  const descr = dict.get('descr');
  const dtype = typeof descr === 'string' ? DESCR_TO_DTYPE.get(descr) : undefined;
  if (!dtype) return fail(`unsupported .npy dtype ${JSON.stringify(typeof descr === 'string' ? descr.slice(0, 20) : descr)} (expected little-endian float/int/uint8/bool)`);
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') fail('fortran_order must be True or False');
  if (fortran) fail('Fortran-order .npy arrays are not supported; save with C order');
  const shape = dict.get('shape');
  if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return fail('shape must be a tuple of non-negative integers');
  const start = hstart + hlen;
  const count = shape.reduce((a, d) => a * d, 1);
  const need = count * DTYPE_BYTES[dtype];
  // Compared before anything is allocated: the data must be in the file.
  if (!Number.isSafeInteger(need) || bytes.byteLength - start < need) {
    fail(`truncated .npy data: shape [${shape.join(', ')}] ${descr} needs ${need} bytes, ${bytes.byteLength - start} present`);
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
