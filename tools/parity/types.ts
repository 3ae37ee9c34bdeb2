import type { SafetensorsFile } from '@adm/core';

/**
 * The format of the values a tolerance compares: its floor is a few ulps of the expected
 * value in that format (compare.ts FLOOR_ULPS); 'exact' has no floor (integers, copies).
 */
export type Precision = 'float32' | 'float64' | 'exact';

/** Tolerance for one compared output: |a - e| <= max(abs + rel * |e|, FLOOR_ULPS ulps of e in `precision`) element-wise. */
export interface Tolerance {
  abs: number;
  rel?: number;
  /** Which format's ulps floor the tolerance (stated at every tolerance). */
  precision: Precision;
  /** Why this tolerance (shown in the README's table). */
  why?: string;
}

/** What a kind handler gets for one case folder. */
export interface CaseContext {
  /** Absolute path of the case folder. */
  dir: string;
  /** Path relative to the fixture root (what PASS/FAIL lines print). */
  rel: string;
  /** Parsed case.json. */
  spec: Record<string, any>;
  /** tensors.safetensors of the case, loaded lazily. */
  tensors(): Promise<SafetensorsFile>;
  /** Another safetensors file of the case folder (e.g. tensors_f64.safetensors). */
  file(name: string): Promise<SafetensorsFile>;
  /** Records comparisons; the runner reads its verdict. */
  check: import('./compare.js').Checker;
  /** tfjs backend the runner selected. */
  backend: string;
}

/** A kind handler runs one case and records comparisons on ctx.check. */
export type KindRunner = (ctx: CaseContext) => Promise<void>;

export interface KindModule {
  run: KindRunner;
  /** Tolerances by output name pattern, for the documentation table. */
  tolerances: Record<string, Tolerance>;
}

/** Thrown by a kind that is not implemented yet (the case FAILs with "not implemented"). */
export class NotImplemented extends Error {
  constructor(kind: string) {
    super(`kind "${kind}" not implemented`);
  }
}
