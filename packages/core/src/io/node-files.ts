import { TensorFileError } from '../errors.js';
import { parseSafetensors, parseSafetensorsHeader, serializeSafetensors, type SafetensorsFile, type SafetensorsHeader, type TensorToWrite } from './safetensors.js';
import { typedFromBytes, type HostTensor } from './dtypes.js';

// Node-only file helpers, imported lazily so browser bundles of core never pull node:fs.

async function fsp() {
  return import('node:fs/promises');
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await fsp();
  try {
    const b = await fs.readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TensorFileError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`);
  }
}

/** Write bytes to `path` atomically: a temporary name in the same folder, then rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await fsp();
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await readFileBytes(path), path);
}

export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/**
 * Streaming reader: reads and validates only the header, then each tensor on demand,
 * so a multi-GB checkpoint need not be held in memory at once.
 */
export class SafetensorsReader {
  private constructor(
    readonly file: string,
    readonly header: SafetensorsHeader,
    private readonly handle: import('node:fs/promises').FileHandle,
  ) {}

  static async open(path: string): Promise<SafetensorsReader> {
    const fs = await fsp();
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (e) {
      throw new TensorFileError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot open (${(e as Error).message})`);
    }
    try {
      const size = (await handle.stat()).size;
      const first8 = new Uint8Array(8);
      await handle.read(first8, 0, Math.min(8, size), 0);
      let headerBytes: Uint8Array | undefined;
      if (size >= 8) {
        const n = Number(new DataView(first8.buffer).getBigUint64(0, true));
        if (n <= size - 8 && n <= 100_000_000) {
          headerBytes = new Uint8Array(n);
          await handle.read(headerBytes, 0, n, 8);
        }
      }
      return new SafetensorsReader(path, parseSafetensorsHeader(first8, headerBytes, size, path), handle);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.header.entries.keys()];
  }

  async get(name: string): Promise<HostTensor> {
    const e = this.header.entries.get(name);
    if (!e) throw new TensorFileError(this.file, 'no such tensor in the file', name);
    const buf = new Uint8Array(e.end - e.begin);
    const { bytesRead } = await this.handle.read(buf, 0, buf.byteLength, this.header.dataStart + e.begin);
    if (bytesRead !== buf.byteLength) throw new TensorFileError(this.file, `short read: ${bytesRead} of ${buf.byteLength} bytes`, name);
    return { dtype: e.dtype, shape: [...e.shape], data: typedFromBytes(e.dtype, buf) };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
