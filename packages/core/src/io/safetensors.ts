import { TensorFileError, describeValue } from '../errors.js';
import {
  DTYPE_BYTES,
  type DType,
  type HostTensor,
  type TypedArray,
  bytesOf,
  isDType,
  shapeSize,
  typedFromBytes,
} from './dtypes.js';

/** Largest header we accept (the reference implementation caps it at 100 MB too). */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Byte range inside the data section (after the 8 + header bytes). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Offset of the data section from the start of the file. */
  dataStart: number;
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/**
 * Parse and validate a safetensors header. `fileSize` is the whole file's size so offsets
 * can be checked before any tensor is read (streaming: read 8 bytes, then the header).
 */
export function parseSafetensorsHeader(
  first8: Uint8Array,
  headerBytes: Uint8Array | undefined,
  fileSize: number,
  file: string,
): SafetensorsHeader {
  if (fileSize < 8 || first8.byteLength < 8) {
    throw new TensorFileError(file, `truncated: ${fileSize} bytes, a safetensors file starts with an 8-byte header length`);
  }
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > fileSize - 8) {
    throw new TensorFileError(file, `header length ${n} is larger than the ${fileSize - 8} bytes after the length field`);
  }
  if (n > MAX_HEADER_BYTES) throw new TensorFileError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerBytes === undefined || headerBytes.byteLength < n) {
    throw new TensorFileError(file, `truncated header: expected ${n} bytes`);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(headerBytes.subarray(0, n));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TensorFileError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TensorFileError(file, 'header JSON must be an object of tensor name -> {dtype, shape, data_offsets}');
  }
  const dup = findDuplicateTopLevelKey(text);
  if (dup !== undefined) throw new TensorFileError(file, 'duplicate tensor name in header', dup);

  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(raw, file);
      continue;
    }
    entries.set(name, parseEntry(name, raw, dataLen, file));
  }
  // Offsets must tile the data section: sorted by start, no overlap, no gap.
  const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  for (const [name, e] of sorted) {
    if (e.begin < cursor) throw new TensorFileError(file, `data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`, name);
    if (e.begin > cursor) throw new TensorFileError(file, `data_offsets start at ${e.begin} but the previous tensor ends at ${cursor} (gap in the data section)`, name);
    cursor = e.end;
  }
  if (cursor !== dataLen) {
    throw new TensorFileError(file, `the tensors cover ${cursor} bytes but the data section has ${dataLen} bytes`);
  }
  return { dataStart, entries, metadata };
}

function parseMetadata(raw: unknown, file: string): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TensorFileError(file, '__metadata__ must be an object of string -> string');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new TensorFileError(file, `__metadata__[${describeValue(k)}] must be a string, got ${describeValue(v)}`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, raw: unknown, dataLen: number, file: string): SafetensorsEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TensorFileError(file, 'header entry must be an object {dtype, shape, data_offsets}', name);
  }
  const r = raw as Record<string, unknown>;
  if (!isDType(r.dtype)) {
    throw new TensorFileError(file, `unknown dtype ${describeValue(r.dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`, name);
  }
  const shape = r.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TensorFileError(file, `shape must be an array of non-negative integers, got ${describeValue(shape)}`, name);
  }
  const offs = r.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TensorFileError(file, `data_offsets must be [begin, end] non-negative integers, got ${describeValue(offs)}`, name);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw new TensorFileError(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
  if (end > dataLen) {
    throw new TensorFileError(file, `data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data section`, name);
  }
  const expected = shapeSize(shape as number[]) * DTYPE_BYTES[r.dtype];
  if (end - begin !== expected) {
    throw new TensorFileError(
      file,
      `dtype ${r.dtype} shape [${(shape as number[]).join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`,
      name,
    );
  }
  return { dtype: r.dtype, shape: shape as number[], begin, end };
}

/** The first top-level key that occurs twice in a JSON object text (JSON.parse keeps the last silently). */
function findDuplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/** A parsed safetensors file held in memory. */
export class SafetensorsFile {
  constructor(
    readonly file: string,
    readonly header: SafetensorsHeader,
    private readonly bytes: Uint8Array,
  ) {}

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  names(): string[] {
    return [...this.header.entries.keys()];
  }

  has(name: string): boolean {
    return this.header.entries.has(name);
  }

  get(name: string): HostTensor {
    const e = this.header.entries.get(name);
    if (!e) throw new TensorFileError(this.file, 'no such tensor in the file', name);
    const b = this.bytes.subarray(this.header.dataStart + e.begin, this.header.dataStart + e.end);
    return { dtype: e.dtype, shape: [...e.shape], data: typedFromBytes(e.dtype, b) };
  }

  /** Every tensor whose name starts with `prefix`, keyed by the rest of the name. */
  withPrefix(prefix: string): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const n of this.names()) if (n.startsWith(prefix)) out.set(n.slice(prefix.length), this.get(n));
    return out;
  }
}

/** Parse a whole safetensors file from memory, validating everything before returning. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const first8 = bytes.subarray(0, 8);
  let headerBytes: Uint8Array | undefined;
  if (bytes.byteLength >= 8) {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    if (n <= bytes.byteLength - 8) headerBytes = bytes.subarray(8, 8 + n);
  }
  const header = parseSafetensorsHeader(first8, headerBytes, bytes.byteLength, file);
  return new SafetensorsFile(file, header, bytes);
}

export interface TensorToWrite {
  dtype: DType;
  shape: readonly number[];
  data: TypedArray;
}

/** Serialize tensors (in insertion order) and optional string metadata to safetensors bytes. */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new TensorFileError('<serialize>', 'the name __metadata__ is reserved', name);
    const expected = shapeSize(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new TensorFileError('<serialize>', `dtype ${t.dtype} shape [${t.shape.join(', ')}] needs ${expected} bytes, data has ${t.data.byteLength}`, name);
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let pos = 8 + hb.byteLength;
  for (const [, t] of list) {
    out.set(bytesOf(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}
