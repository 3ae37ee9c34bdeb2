import { TensorFileError } from '../../errors.js';

/** A module-level name a pickle refers to (GLOBAL / STACK_GLOBAL), resolved only against an allow-list. */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

/**
 * The widest integer a tensor checkpoint holds: int64 values, and the legacy format's
 * 10-byte magic number. Wider ones are refused, since building a huge integer from its
 * bytes takes time quadratic in its length.
 */
const MAX_INT_BYTES = 16;
/** Decimal digits of MAX_INT_BYTES bytes (text INT/LONG opcodes). */
const MAX_INT_DIGITS = 40;

/** A Python tuple (kept apart from lists so callers can tell them apart). */
export class PickleTuple extends Array<unknown> {}

/** What the allow-list maps a permitted global to: a callable (REDUCE) and/or a marker value. */
export interface AllowedGlobal {
  /** Called by REDUCE/NEWOBJ with the argument tuple; must not have side effects. */
  call?: (args: unknown[]) => unknown;
  /** BUILD on an object this global made: apply state (default: refuse). */
  build?: (obj: unknown, state: unknown) => unknown;
}

export interface UnpickleOptions {
  /** Allowed globals by "module.name". Every other global is refused. */
  globals: ReadonlyMap<string, AllowedGlobal>;
  /** Resolves a persistent id (BINPERSID), e.g. torch's storage references. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Called by BUILD for objects not made by an allowed global (e.g. a dict's _metadata). */
  buildDefault?: (obj: unknown, state: unknown) => unknown;
}

/**
 * A restricted pickle reader (protocols 0-5). It interprets the opcodes as data only:
 * every global is looked up in an allow-list and any other global raises an error
 * naming it; nothing is imported, evaluated or executed. Extension codes, out-of-band
 * buffers and INST/OBJ instantiation of unknown classes are refused.
 */
export function unpickle(bytes: Uint8Array, file: string, options: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, file, options).value;
}

/**
 * unpickle one pickle starting at byte `start` of `bytes` and report where its STOP
 * ended, for files that hold several pickles back to back (torch's legacy format).
 * Error positions are byte offsets into `bytes`.
 */
export function unpickleAt(bytes: Uint8Array, start: number, file: string, options: UnpickleOptions): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  if (!Number.isInteger(start) || start < 0 || start > n) throw new TensorFileError(file, `pickle: start offset ${start} is outside the ${n}-byte buffer`);
  let p = start;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const made = new WeakMap<object, AllowedGlobal>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');

  const fail = (detail: string): never => {
    throw new TensorFileError(file, `pickle: ${detail} (at byte ${p})`);
  };
  const need = (k: number) => {
    if (p + k > n) fail(`truncated: needs ${k} more bytes`);
  };
  const u8 = () => {
    need(1);
    return bytes[p++];
  };
  const take = (k: number) => {
    need(k);
    const b = bytes.subarray(p, p + k);
    p += k;
    return b;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('truncated: unterminated text line');
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) fail('MARK expected');
    return stack.splice(m!);
  };
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const key = `${module}.${name}`;
    if (!options.globals.has(key)) {
      fail(`refusing global "${key}": only tensor data may be loaded (allowed: ${[...options.globals.keys()].join(', ')})`);
    }
    return { kind: 'global', module, name };
  };
  const callGlobal = (fn: unknown, args: unknown, op: string) => {
    if (!isGlobal(fn)) fail(`${op} on a value that is not an allowed global`);
    const g = fn as PickleGlobal;
    const allowed = options.globals.get(`${g.module}.${g.name}`)!;
    if (!allowed.call) fail(`${op}: "${g.module}.${g.name}" is not callable here`);
    if (!Array.isArray(args)) fail(`${op}: arguments are not a tuple`);
    const out = allowed.call!(args as unknown[]);
    if (out && typeof out === 'object') made.set(out, allowed);
    return out;
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > MAX_INT_BYTES) fail(`a ${b.length}-byte integer: a tensor checkpoint holds none wider than ${MAX_INT_BYTES} bytes`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) fail('SETITEM(S) on a value that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list) || list instanceof PickleTuple) fail('APPEND(S) on a value that is not a list');
    // one push per item: spreading 100,000s of arguments overflows the call stack
    for (const it of items) (list as unknown[]).push(it);
  };
  const tuple = (items: unknown[]) => PickleTuple.from(items) as PickleTuple;
  const textInt = (s: string, what: string) => {
    if (!/^[-+]?\d+$/.test(s)) fail(`bad ${what} ${JSON.stringify(s.slice(0, 50))}`);
    if (s.length > MAX_INT_DIGITS) fail(`a ${s.length}-digit ${what}: a tensor checkpoint holds none wider than ${MAX_INT_DIGITS} digits`);
    const v = BigInt(s);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME (framing is only a read-ahead hint)
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(dv.getUint16(p, true));
        p += 2;
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const k = dv.getInt32(p, true);
        p += 4;
        if (k < 0) fail('negative LONG4 length');
        stack.push(long(take(k)));
        break;
      }
      case 0x49: {
        // INT (text); "00"/"01" are False/True in protocol 0
        const s = line();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else stack.push(textInt(s, 'INT'));
        break;
      }
      case 0x4c: // LONG (text, trailing L)
        stack.push(textInt(line().replace(/L$/, ''), 'LONG'));
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`bad FLOAT ${JSON.stringify(s.slice(0, 50))}`);
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const k = dv.getUint32(p, true);
        p += 4;
        stack.push(decodeUtf8(utf8, take(k), fail));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decodeUtf8(utf8, take(u8()), fail));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const k = Number(dv.getBigUint64(p, true));
        p += 8;
        stack.push(decodeUtf8(utf8, take(k), fail));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(
          line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a, b) => {
            const cp = parseInt(a ?? b, 16);
            return cp <= 0x10ffff ? String.fromCodePoint(cp) : fail(`UNICODE escape \\U${b} is beyond U+10FFFF`);
          }),
        );
        break;
      case 0x53: {
        // STRING (quoted text)
        const s = line();
        const m = /^(['"])(.*)\1$/s.exec(s);
        if (!m) fail(`bad STRING ${JSON.stringify(s.slice(0, 50))}`);
        stack.push(m![2]);
        break;
      }
      case 0x54: {
        // BINSTRING
        need(4);
        const k = dv.getInt32(p, true);
        p += 4;
        if (k < 0) fail('negative BINSTRING length');
        stack.push(latin1.decode(take(k)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: {
        // BINBYTES
        need(4);
        const k = dv.getUint32(p, true);
        p += 4;
        stack.push(take(k).slice());
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: {
        // BINBYTES8
        need(8);
        const k = Number(dv.getBigUint64(p, true));
        p += 8;
        stack.push(take(k).slice());
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x85:
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(callGlobal(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(callGlobal(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (kwargs must be empty)
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size) fail('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(callGlobal(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const builder = obj && typeof obj === 'object' ? made.get(obj)?.build : undefined;
        if (builder) stack[stack.length - 1] = builder(obj, state);
        else if (options.buildDefault) stack[stack.length - 1] = options.buildDefault(obj, state);
        else fail('BUILD on an object that accepts no state');
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not supported here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!options.persistentLoad) fail('persistent ids are not supported here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: {
        // LONG_BINPUT
        need(4);
        memo.set(dv.getUint32(p, true), top());
        p += 4;
        break;
      }
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68:
      case 0x6a:
      case 0x67: {
        // BINGET / LONG_BINGET / GET
        let k: number;
        if (op === 0x68) k = u8();
        else if (op === 0x6a) {
          need(4);
          k = dv.getUint32(p, true);
          p += 4;
        } else k = Number(line());
        if (!memo.has(k)) fail(`memo key ${k} not defined`);
        stack.push(memo.get(k));
        break;
      }
      case 0x69: // INST
        resolveGlobal(line(), line());
        fail('INST (instantiating a class) is not supported');
        break;
      case 0x6f: // OBJ
        fail('OBJ (instantiating a class) is not supported');
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        fail('extension-registry opcodes (EXT1/2/4) are refused');
        break;
      case 0x96:
      case 0x97:
      case 0x98:
        fail('out-of-band buffers are not supported');
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

function isGlobal(v: unknown): v is PickleGlobal {
  return typeof v === 'object' && v !== null && (v as PickleGlobal).kind === 'global' && typeof (v as PickleGlobal).module === 'string';
}

function decodeUtf8(dec: TextDecoder, b: Uint8Array, fail: (d: string) => never): string {
  try {
    return dec.decode(b);
  } catch {
    return fail('invalid UTF-8 string');
  }
}
