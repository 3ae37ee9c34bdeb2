import fc from 'fast-check';

/**
 * Shared pieces of the file-reader property tests. Runs per property: ADM_FUZZ_RUNS
 * (default 300), e.g. `ADM_FUZZ_RUNS=20000 npx vitest run packages/core/src/io/zip.test.ts`
 * for a longer campaign.
 */
export const RUNS = Number(process.env.ADM_FUZZ_RUNS ?? 300);
/** Every case must finish: a hang fails its test through vitest's timeout, never a timed assertion. */
export const FUZZ_MS = 30_000 + RUNS * 20;

/** One mutation of a byte string: arbitrary bytes changed, inserted, removed, or the tail cut. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.nat(255)) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Apply mutations in order; positions wrap around the current length. */
export function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] ^= 1 << m.bit;
    else if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else if (m.kind === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
    else b = b.slice(0, at);
  }
  return b;
}

