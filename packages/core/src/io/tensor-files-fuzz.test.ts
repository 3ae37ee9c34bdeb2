import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdmError, TensorFileError } from '../errors.js';
import { DTYPE_BYTES, shapeSize, type HostTensor } from './dtypes.js';
import { FUZZ_MS, RUNS, mutate, mutationArb } from './fuzz-test-utils.js';
import { parseNpy, parseNpz, serializeNpy, serializeNpz } from './npy.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

// Regressions and properties of the safetensors, .npy and .npz readers: a mutated file loads
// consistently (every tensor's bytes = its shape x its dtype's size) or is refused with one of
// the project's errors naming the file; never another exception, a hang, or an allocation of
// a declared (not actual) size. ADM_FUZZ_RUNS sets the runs per property (default 300).

const TENSORS: Record<string, HostTensor> = {
  'a.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  'a.bias': { dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0x4000, 0x4200]) },
  step: { dtype: 'I64', shape: [], data: BigInt64Array.from([7n]) },
};
const SAFETENSORS = serializeSafetensors(TENSORS, { format: 'pt' });
const NPY = serializeNpy({ dtype: 'U8', shape: [2, 2, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) });
const NPZ = serializeNpz({ arr_0: { dtype: 'U8', shape: [2, 2, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i) }, arr_1: { dtype: 'I64', shape: [2], data: BigInt64Array.from([3n, 1n]) } });
const NPZ_DEFLATED = serializeNpz({ arr_0: { dtype: 'F32', shape: [4], data: Float32Array.from([0.5, 1.5, 2.5, 3.5]) } }, { compressed: true });

function consistent(t: HostTensor): void {
  expect(t.data.byteLength).toBe(shapeSize(t.shape) * DTYPE_BYTES[t.dtype]);
}

/** Load with `read`: either every tensor is consistent, or an AdmError naming `file`. */
function loadsOrRefuses(read: () => Iterable<HostTensor>, file: string): void {
  try {
    for (const t of read()) consistent(t);
  } catch (e) {
    if (!(e instanceof AdmError)) throw e;
    expect(e.message.startsWith(file)).toBe(true);
  }
}

/** A safetensors file whose header is `header` (any JSON text) and data `data`. */
function withHeader(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors on malformed headers', () => {
  const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
  it.each(['dtype', 'shape', 'data_offsets'])('refuses %s nested 10,000 levels with a typed error (was a stack overflow)', (field) => {
    const entry: Record<string, string> = { dtype: '"F32"', shape: '[1]', data_offsets: '[0, 4]' };
    entry[field] = deep;
    const header = `{"t": {${Object.entries(entry).map(([k, v]) => `"${k}": ${v}`).join(', ')}}}`;
    expect(() => parseSafetensors(withHeader(header, new Uint8Array(4)), 'deep.safetensors')).toThrow(TensorFileError);
    expect(() => parseSafetensors(withHeader(header, new Uint8Array(4)), 'deep.safetensors')).toThrow(/^deep\.safetensors \(tensor "t"\): .*an array of 1 items \(nested\)/);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('refuses the dtype name %s', (dtype) => {
    expect(() => parseSafetensors(withHeader(`{"t": {"dtype": "${dtype}", "shape": [1], "data_offsets": [0, 4]}}`, new Uint8Array(4)), 'p.safetensors')).toThrow(
      `p.safetensors (tensor "t"): unknown dtype "${dtype}"`,
    );
  });

  it('refuses a __metadata__ value that is not a string, describing it boundedly', () => {
    expect(() => parseSafetensors(withHeader(`{"__metadata__": {"k": ${deep}}}`), 'm.safetensors')).toThrow('m.safetensors: __metadata__["k"] must be a string, got an array of 1 items (nested)');
  });
});

describe('property: mutated tensor files load consistently or are refused naming the file', () => {
  it('safetensors: byte mutations', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (ms) => {
        const file = parseSafetensors(SAFETENSORS.slice(), 'x.safetensors');
        expect(file.names().sort()).toEqual(Object.keys(TENSORS).sort());
        loadsOrRefuses(() => {
          const f = parseSafetensors(mutate(SAFETENSORS, ms), 'x.safetensors');
          return f.names().map((n) => f.get(n));
        }, 'x.safetensors');
      }),
      { numRuns: RUNS },
    );
  });

  it('safetensors: header fields replaced by arbitrary JSON values', { timeout: FUZZ_MS }, () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('F32', 'F16', 'I64', 'U8', 'constructor', '__proto__', 'toString'),
        fc.integer({ min: -5, max: 1 << 30 }),
        fc.constantFrom(0, 4, 24, 2 ** 53, 1e300, -1, 0.5),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('dtype', 'shape', 'data_offsets', '__proto__', 'x'), tie('value'), { maxKeys: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(fc.constantFrom('a.weight', 'a.bias', 'step', '__metadata__'), fc.constantFrom('dtype', 'shape', 'data_offsets', 'format'), json, (name, field, v) => {
        const n = Number(new DataView(SAFETENSORS.buffer).getBigUint64(0, true));
        const header = JSON.parse(new TextDecoder().decode(SAFETENSORS.subarray(8, 8 + n)));
        header[name] = { ...header[name], [field]: v };
        loadsOrRefuses(() => {
          const f = parseSafetensors(withHeader(JSON.stringify(header), SAFETENSORS.subarray(8 + n)), 'h.safetensors');
          return f.names().map((k) => f.get(k));
        }, 'h.safetensors');
      }),
      { numRuns: RUNS },
    );
  });

  it('npy: byte mutations', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (ms) => {
        loadsOrRefuses(() => [parseNpy(mutate(NPY, ms), 'x.npy')], 'x.npy');
      }),
      { numRuns: RUNS },
    );
  });

  it('npy: header values replaced by arbitrary Python-literal text', { timeout: FUZZ_MS }, () => {
    const literal = fc.oneof(
      fc.constantFrom("'<f4'", "'|u1'", "'constructor'", "'__proto__'", 'True', 'False', 'None', '()', '(2,)', '(2, 2, 2, 3)', '(-1,)', '((1,),)', '(99999999999, 99999999999)', "'", '(', '{'),
      fc.integer({ min: -3, max: 1 << 20 }).map(String),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(literal, literal, literal, fc.boolean(), (descr, fortran, shape, dup) => {
        const header = `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, ${dup ? "'shape': (24,), " : ''}}`;
        const h = new TextEncoder().encode(header);
        const bytes = new Uint8Array(10 + h.length + 24);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
        new DataView(bytes.buffer).setUint16(8, h.length, true);
        bytes.set(h, 10);
        loadsOrRefuses(() => [parseNpy(bytes, 'h.npy')], 'h.npy');
      }),
      { numRuns: RUNS },
    );
  });

  it('npz (stored and deflated): byte mutations', { timeout: FUZZ_MS }, () => {
    fc.assert(
      fc.property(fc.constantFrom(NPZ, NPZ_DEFLATED), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (npz, ms) => {
        loadsOrRefuses(() => parseNpz(mutate(npz, ms), 'x.npz').values(), 'x.npz');
      }),
      { numRuns: RUNS },
    );
  });
});
