import { join } from 'node:path';
import { ConfigError, type HostTensor, readFileBytes, parseSafetensors, TensorFileError, writeFileAtomic, writeSafetensorsFile } from '@adm/core';

/** A training checkpoint: every tensor of the state plus JSON metadata. */
export interface TrainingCheckpoint {
  step: number;
  tensors: Map<string, HostTensor>;
  meta: Record<string, unknown>;
}

const LATEST = 'latest.json';

/**
 * Training state files of a run folder: `checkpoints/step-<N>.safetensors` (parameters,
 * EMA copies, optimizer moments, sampler history; metadata under "train_state") and
 * `latest.json` naming the newest. Each file is written under a temporary name and then
 * renamed, and latest.json is updated last, so a crash never leaves a half checkpoint
 * as the one to resume from.
 */
export class CheckpointStore {
  constructor(
    readonly runDir: string,
    readonly keep = 2,
  ) {}

  fileFor(step: number): string {
    return join(this.runDir, 'checkpoints', `step-${String(step).padStart(7, '0')}.safetensors`);
  }

  async save(ckpt: TrainingCheckpoint): Promise<string> {
    const fs = await import('node:fs/promises');
    await fs.mkdir(join(this.runDir, 'checkpoints'), { recursive: true });
    const file = this.fileFor(ckpt.step);
    await writeSafetensorsFile(file, ckpt.tensors, { train_state: JSON.stringify({ step: ckpt.step, ...ckpt.meta }) });
    const rel = join('checkpoints', file.split('/').pop()!);
    await writeFileAtomic(join(this.runDir, LATEST), JSON.stringify({ step: ckpt.step, checkpoint: rel }, null, 2) + '\n');
    await this.prune(ckpt.step);
    return file;
  }

  /** The newest checkpoint, or undefined when the run folder has none. */
  async loadLatest(): Promise<TrainingCheckpoint | undefined> {
    const fs = await import('node:fs/promises');
    let latest: { step: number; checkpoint: string };
    try {
      latest = JSON.parse(await fs.readFile(join(this.runDir, LATEST), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ConfigError(join(this.runDir, LATEST), `unreadable (${(e as Error).message})`);
    }
    return this.load(join(this.runDir, latest.checkpoint));
  }

  async load(file: string): Promise<TrainingCheckpoint> {
    const st = parseSafetensors(await readFileBytes(file), file);
    const raw = st.header.metadata?.train_state;
    if (!raw) throw new TensorFileError(file, 'no "train_state" metadata: not a training checkpoint of adm train');
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(raw);
    } catch {
      throw new TensorFileError(file, 'the "train_state" metadata is not JSON');
    }
    const tensors = new Map<string, HostTensor>();
    for (const n of st.names()) tensors.set(n, st.get(n));
    const step = Number(meta.step);
    if (!Number.isInteger(step) || step < 0) throw new TensorFileError(file, `train_state.step must be a non-negative integer, got ${meta.step}`);
    return { step, tensors, meta };
  }

  /**
   * Clear what a killed process left half-written in the run folder and its subfolders:
   * `<name>.tmp-<pid>-<time>` files and folders of writeFileAtomic / writeFolderAtomic are
   * removed, and a `<name>.old-<pid>-<time>` folder is renamed back when `<name>` itself is
   * missing (killed between the two renames of a folder swap), else removed. Names of a live
   * process are left alone. Returns the names handled (relative to the run folder).
   */
  async removeLeftovers(): Promise<string[]> {
    const fs = await import('node:fs/promises');
    const handled: string[] = [];
    const sweep = async (rel: string): Promise<void> => {
      const dir = join(this.runDir, rel);
      const items = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const d of items) {
        const m = /^(.+)\.(tmp|old)-(\d+)-\d+$/.exec(d.name);
        if (!m) {
          if (d.isDirectory() && rel === '') await sweep(d.name);
          continue;
        }
        if (isAlive(Number(m[3]))) continue;
        const path = join(dir, d.name);
        const target = join(dir, m[1]);
        const targetExists = await fs.stat(target).then(
          () => true,
          () => false,
        );
        if (m[2] === 'old' && !targetExists) await fs.rename(path, target);
        else await fs.rm(path, { recursive: true, force: true });
        handled.push(join(rel, d.name));
      }
    };
    await sweep('');
    return handled;
  }

  private async prune(current: number): Promise<void> {
    const fs = await import('node:fs/promises');
    const dir = join(this.runDir, 'checkpoints');
    const steps = (await fs.readdir(dir))
      .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .filter((s) => s <= current)
      .sort((a, b) => b - a);
    for (const s of steps.slice(Math.max(1, this.keep))) await fs.rm(this.fileFor(s), { force: true });
  }
}

/** Whether process `pid` is running (another process's, or this one's, temporary names are left alone). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Replace folder `dir` by what `write(tmpDir)` produces: written beside it under a
 * temporary name, then swapped in by renames, so readers never see a half-written model.
 */
export async function writeFolderAtomic(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  const fs = await import('node:fs/promises');
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const old = `${dir}.old-${process.pid}-${Date.now()}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    if (exists) await fs.rename(dir, old);
    await fs.rename(tmp, dir);
    if (exists) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
