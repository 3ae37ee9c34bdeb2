// Where a model folder's two files come from: a path or file: URL (Node's file system), or an
// http(s) URL (fetch; in Node cached on disk by URL and content hash), as diffusers'
// from_pretrained reads a folder or a hub URL. The same code runs in Node and in browsers.
import { ConfigError, TensorFileError } from '@adm/core';
import { CONFIG_FILE, WEIGHTS_FILE } from './model-folder.js';

/** A model folder's files, named one by one (what @adm/models-mnist exports). */
export interface ModelFiles {
  readonly config: string | URL;
  readonly weights: string | URL;
}

/** A folder path, a folder URL (http:, https:, file:), or the two files' locations. */
export type ModelSource = string | URL | ModelFiles;

export interface ModelSourceOptions {
  /**
   * Node only: where downloaded files are kept (default: ADM_CACHE_DIR, else
   * $XDG_CACHE_HOME/adm, else ~/.cache/adm); false to download every time.
   */
  cacheDir?: string | false;
  /** Download again even when the cache has the URL. */
  refresh?: boolean;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Refuse a file larger than this many bytes (checked before reading where the size is known). */
  maxBytes?: number;
}

/** The bytes of one file and the name errors should give it. */
export interface SourceFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

function isUrlString(s: string): boolean {
  return /^(https?|file):\/\//i.test(s);
}

function describeSource(source: unknown): string {
  if (source instanceof URL) return source.href;
  if (typeof source === 'string') return source;
  return Object.prototype.toString.call(source);
}

/** Resolve a folder or the files object into the config and weights locations (URL or path). */
export function modelFileLocations(source: ModelSource): { config: string | URL; weights: string | URL } {
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (source === null || !('config' in source) || !('weights' in source)) {
      throw new ConfigError('model', `expected a folder path, a URL or {config, weights}, got ${describeSource(source)}`);
    }
    return { config: source.config, weights: source.weights };
  }
  if (source instanceof URL || isUrlString(source) || !isNode) {
    // A folder URL; relative strings in a browser resolve against the page.
    const base = source instanceof URL ? source.href : source;
    const folder = new URL(base.endsWith('/') ? base : `${base}/`, typeof location === 'object' ? location.href : undefined);
    return { config: new URL(CONFIG_FILE, folder), weights: new URL(WEIGHTS_FILE, folder) };
  }
  if (typeof source !== 'string' || !source) throw new ConfigError('model', `expected a folder path, a URL or {config, weights}, got ${describeSource(source)}`);
  const dir = source.replace(/\/+$/, '') || '/';
  return { config: `${dir}/${CONFIG_FILE}`, weights: `${dir}/${WEIGHTS_FILE}` };
}

/** Read one file from a path, a file: URL or an http(s) URL. */
export async function readSourceFile(location: string | URL, options: ModelSourceOptions = {}): Promise<SourceFile> {
  const url = location instanceof URL ? location : isUrlString(location) ? new URL(location) : undefined;
  if (url && url.protocol !== 'file:') return fetchCached(url, options);
  if (!isNode) throw new ConfigError(String(location), 'a browser can only load models from URLs');
  const { fileURLToPath } = await import('node:url');
  const path = url ? fileURLToPath(url) : (location as string);
  const { readFile, stat } = await import('node:fs/promises');
  try {
    if (options.maxBytes !== undefined) checkSize(path, (await stat(path)).size, options.maxBytes);
    return { name: path, bytes: new Uint8Array(await readFile(path)) };
  } catch (e) {
    if (e instanceof TensorFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TensorFileError(path, code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a folder, expected a file' : `cannot be read (${(e as Error).message})`);
  }
}

function checkSize(name: string, size: number, maxBytes: number): void {
  if (size > maxBytes) throw new TensorFileError(name, `${size} bytes; at most ${maxBytes} are expected here`);
}

/** A missing config.json says the folder is not a model folder. */
export function notAModelFolder(e: unknown): never {
  throw e instanceof TensorFileError && e.detail === 'not found' ? new TensorFileError(e.file, `not a model folder: ${CONFIG_FILE} not found`) : e;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function download(url: URL, options: ModelSourceOptions): Promise<Uint8Array> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await fetchImpl(url.href);
  } catch {
    // Once more on a network error: a kept-alive connection the server has just closed fails the first try.
    try {
      res = await fetchImpl(url.href);
    } catch (e) {
      throw new TensorFileError(url.href, `could not be fetched (${(e as Error).message})`);
    }
  }
  if (!res.ok) throw new TensorFileError(url.href, `could not be fetched: HTTP ${res.status} ${res.statusText}`.trim());
  const declared = Number(res.headers?.get?.('content-length') ?? NaN);
  if (options.maxBytes !== undefined && Number.isFinite(declared)) checkSize(url.href, declared, options.maxBytes);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (options.maxBytes !== undefined) checkSize(url.href, bytes.length, options.maxBytes);
  return bytes;
}

function defaultCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.ADM_CACHE_DIR || `${env.XDG_CACHE_HOME || `${home}/.cache`}/adm`;
}

/**
 * An http(s) file. In Node it is kept in the cache: models/<sha256 of the URL>.json records the
 * URL and the content's sha256, blobs/<sha256> holds the bytes (written under a temporary name,
 * then renamed). A cached blob whose bytes no longer match its hash is downloaded again.
 */
async function fetchCached(url: URL, options: ModelSourceOptions): Promise<SourceFile> {
  if (!isNode || options.cacheDir === false) return { name: url.href, bytes: await download(url, options) };
  const [{ mkdir, readFile, rename, writeFile }, { homedir }] = await Promise.all([import('node:fs/promises'), import('node:os')]);
  const root = options.cacheDir ?? defaultCacheDir(process.env, homedir());
  const entryPath = `${root}/models/${await sha256Hex(new TextEncoder().encode(url.href))}.json`;
  if (!options.refresh) {
    try {
      const entry = JSON.parse(await readFile(entryPath, 'utf8')) as { url?: unknown; sha256?: unknown };
      if (entry.url === url.href && typeof entry.sha256 === 'string' && /^[0-9a-f]{64}$/.test(entry.sha256)) {
        const blob = `${root}/blobs/${entry.sha256}`;
        const bytes = new Uint8Array(await readFile(blob));
        if ((await sha256Hex(bytes)) === entry.sha256) return { name: url.href, bytes };
      }
    } catch {
      /* not cached (or a damaged entry): download */
    }
  }
  const bytes = await download(url, options);
  const sha256 = await sha256Hex(bytes);
  const writeAtomic = async (path: string, data: Uint8Array | string) => {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  };
  try {
    await mkdir(`${root}/blobs`, { recursive: true });
    await mkdir(`${root}/models`, { recursive: true });
    await writeAtomic(`${root}/blobs/${sha256}`, bytes);
    await writeAtomic(entryPath, `${JSON.stringify({ url: url.href, sha256, size: bytes.length, fetched: new Date().toISOString() })}\n`);
  } catch {
    /* a read-only or full cache must not stop the load: the bytes are in memory */
  }
  return { name: url.href, bytes };
}
