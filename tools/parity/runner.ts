import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readSafetensorsFile, type SafetensorsFile, useBackend } from '@adm/core';
import { Checker } from './compare.js';
import { KINDS } from './kinds/index.js';
import { NotImplemented } from './types.js';

export interface CaseResult {
  rel: string;
  kind: string;
  pass: boolean;
  /** The kind has a handler (a failure of an implemented kind is a real defect). */
  implemented: boolean;
  maxAbs: number;
  why?: string;
  ms: number;
}

/** Every folder under `root` (recursively, `root` included) holding a case.json, sorted. */
export async function findCases(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    const items = await readdir(dir, { withFileTypes: true });
    if (items.some((d) => d.isFile() && d.name === 'case.json')) out.push(dir);
    for (const d of items) if (d.isDirectory()) await walk(join(dir, d.name));
  }
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) {
    throw new Error(`fixture root ${root} is not a folder`);
  }
  await walk(root);
  return out.sort();
}

/** The dispatch key of a case: `kind`, else `metric`. */
export function caseKind(spec: Record<string, any>): string | undefined {
  return typeof spec.kind === 'string' ? spec.kind : typeof spec.metric === 'string' ? spec.metric : undefined;
}

export async function runCase(root: string, dir: string, backend: string): Promise<CaseResult> {
  const rel = relative(root, dir) || '.';
  const t0 = performance.now();
  let spec: Record<string, any>;
  try {
    spec = JSON.parse(await readFile(join(dir, 'case.json'), 'utf8'));
  } catch (e) {
    return { rel, kind: '?', pass: false, implemented: false, maxAbs: NaN, why: `case.json unreadable: ${(e as Error).message}`, ms: 0 };
  }
  const kind = caseKind(spec);
  if (!kind) return { rel, kind: '?', pass: false, implemented: false, maxAbs: NaN, why: 'case.json has neither "kind" nor "metric"', ms: 0 };
  const load = KINDS[kind];
  if (!load) return { rel, kind, pass: false, implemented: false, maxAbs: NaN, why: `kind "${kind}" not implemented`, ms: 0 };
  const check = new Checker();
  const files = new Map<string, Promise<SafetensorsFile>>();
  const file = (name: string) => {
    if (!files.has(name)) files.set(name, readSafetensorsFile(join(dir, name)));
    return files.get(name)!;
  };
  try {
    const mod = await load();
    await mod.run({ dir, rel, spec, tensors: () => file('tensors.safetensors'), file, check, backend });
  } catch (e) {
    const ni = e instanceof NotImplemented;
    return { rel, kind, pass: false, implemented: !ni, maxAbs: check.maxAbs, why: ni ? (e as Error).message : `error: ${(e as Error).stack ?? e}`, ms: performance.now() - t0 };
  }
  const ms = performance.now() - t0;
  if (check.compared === 0) return { rel, kind, pass: false, implemented: true, maxAbs: NaN, why: 'nothing was compared', ms };
  return { rel, kind, pass: check.failures.length === 0, implemented: true, maxAbs: check.maxAbs, why: check.failures.join('; ') || undefined, ms };
}

export function formatResult(r: CaseResult): string {
  return r.pass ? `PASS ${r.rel} max_abs=${r.maxAbs.toExponential(3)}` : `FAIL ${r.rel}: ${r.why}`;
}

export interface RunOptions {
  backend?: string;
  filter?: RegExp;
  log?: (line: string) => void;
}

export async function runAll(root: string, opts: RunOptions = {}): Promise<CaseResult[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const { name } = await useBackend(opts.backend ?? 'cpu', (l) => log(`# ${l}`));
  const dirs = (await findCases(root)).filter((d) => !opts.filter || opts.filter.test(relative(root, d)));
  const results: CaseResult[] = [];
  for (const d of dirs) {
    const r = await runCase(root, d, name);
    results.push(r);
    log(formatResult(r));
  }
  const passed = results.filter((r) => r.pass).length;
  log(`${passed} passed, ${results.length - passed} failed`);
  return results;
}
