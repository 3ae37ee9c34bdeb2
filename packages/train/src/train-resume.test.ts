import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, SeededRandom } from '@adm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRunOptions } from './train-test-process.js';

// A real training process (train-test-process.ts: tiny networks, cpu backend, a checkpoint
// every 4 steps, a metrics row every 3) is killed with SIGKILL at a random step after its
// first checkpoint, resumed, and must end with the same run folder as an uninterrupted run
// from scratch with the same seed: checkpoints, EMA and model exports, metrics.jsonl, bit
// for bit. ADM_KILL_SEED=<n> replays a logged kill point.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./train-test-process.ts', import.meta.url));
const STEPS = 22;
const SAVE_INTERVAL = 4;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

/**
 * Run the training process; `onLine` sees each stdout line (with the process, to answer or
 * kill it). Resolves with how it ended.
 */
function trainProcess(opts: TestRunOptions, onLine?: (line: string, child: ChildProcess) => void): Promise<Exit> {
  // node --import tsx directly (not the tsx CLI, which would run the script in a grandchild SIGKILL does not reach)
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(opts)], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdin!.on('error', () => {}); // a killed child closes its stdin under our writes
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lines.push(line);
      onLine?.(line, child);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
}

/** Every file under `dir` (relative paths, sorted) with its bytes. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p));
    }
  };
  await walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A checkpoint's tensors and its train_state without the wall-clock sum of sec_per_step. */
function checkpointContent(file: string, bytes: Buffer): { tensors: Record<string, { shape: number[]; bits: Buffer }>; state: Record<string, any> } {
  const st = parseSafetensors(new Uint8Array(bytes), file);
  const tensors: Record<string, { shape: number[]; bits: Buffer }> = {};
  for (const n of st.names()) {
    const t = st.get(n);
    tensors[n] = { shape: [...t.shape], bits: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  }
  const state = JSON.parse(st.header.metadata!.train_state);
  delete state.metrics.sums.sec_per_step;
  return { tensors, state };
}

/** metrics.jsonl rows without sec_per_step (wall time). */
function metricsRows(bytes: Buffer): Array<Record<string, number>> {
  return bytes
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l);
      expect(r.sec_per_step, 'every row times its steps').toBeGreaterThan(0);
      delete r.sec_per_step;
      return r;
    });
}

describe('a training process killed with SIGKILL resumes to the uninterrupted run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adm-kill-resume-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const loop of ['denoiser', 'classifier'] as const) {
    it(`${loop} loop: checkpoints, EMA, metrics log and final weights equal bit for bit`, async () => {
      const seed = process.env.ADM_KILL_SEED ? Number(process.env.ADM_KILL_SEED) : Date.now() % 1_000_000;
      const rng = new SeededRandom(seed);
      // kill once step `killAt` is done (after the first checkpoint, before the last), `delayMs` later:
      // the process is then finishing that step's log row / checkpoint / export or running the next step
      const killAt = SAVE_INTERVAL + 1 + rng.int(STEPS - SAVE_INTERVAL - 2);
      const delayMs = rng.int(40);
      console.log(`kill-resume ${loop}: ADM_KILL_SEED=${seed} kills after step ${killAt} + ${delayMs} ms`);
      const killedDir = join(dir, `${loop}-killed`);
      const refDir = join(dir, `${loop}-reference`);
      let killedAfter = 0;
      const [killed, reference] = await Promise.all([
        trainProcess({ loop, runDir: killedDir, steps: STEPS, resume: false, handshake: true }, (line, child) => {
          const [what, n] = line.split(' ');
          if (what !== 'step' || killedAfter) return;
          // the process waits for this byte after every step: after the kill point at most one more step runs
          child.stdin!.write('g');
          if (Number(n) === killAt) {
            killedAfter = killAt;
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        }),
        trainProcess({ loop, runDir: refDir, steps: STEPS, resume: false, handshake: false }),
      ]);
      expect(reference.code, reference.stderr).toBe(0);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(killedAfter).toBe(killAt);
      const before = JSON.parse(await readFile(join(killedDir, 'latest.json'), 'utf8')).step;
      expect(before).toBeGreaterThanOrEqual(SAVE_INTERVAL);
      expect(before).toBeLessThan(STEPS);

      const resumed = await trainProcess({ loop, runDir: killedDir, steps: STEPS, resume: true, handshake: false });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.lines[0]).toBe(`step ${before + 1}`);

      const got = await tree(killedDir);
      const want = await tree(refDir);
      // the same files (no temporary leftovers of the killed process)...
      expect([...got.keys()]).toEqual([...want.keys()]);
      expect([...want.keys()].filter((f) => f.startsWith('checkpoints/'))).toHaveLength(3);
      for (const [name, bytes] of want) {
        if (name.startsWith('checkpoints/')) {
          // ...parameters, EMA, Adam moments and sampler state identical; so is train_state (but for wall time)
          expect(checkpointContent(name, got.get(name)!), name).toEqual(checkpointContent(name, bytes));
        } else if (name === 'metrics.jsonl') {
          const rows = metricsRows(got.get(name)!);
          expect(rows.map((r) => r.step)).toEqual([3, 6, 9, 12, 15, 18, 21, 22]);
          expect(rows).toEqual(metricsRows(bytes));
        } else {
          // latest.json and the model/ and ema_<rate>/ exports: the final weights, byte for byte
          expect(got.get(name)!.equals(bytes), name).toBe(true);
        }
      }
    });
  }
});
