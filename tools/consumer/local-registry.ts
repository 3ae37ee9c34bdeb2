// A read-only npm registry on loopback serving the packed @adm tarballs, so a test installs
// them exactly as a user installs from npm (`npm install @adm/cli`, `npm install -g`), with
// every other package coming from the usual registry (`--@adm:registry=<url>`).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';

interface Published {
  manifest: Record<string, unknown> & { name: string; version: string };
  tarball: Buffer;
  file: string;
}

/** package.json out of a tarball (ustar: 512-byte headers, the entry `package/package.json`). */
function manifestOf(tgz: Buffer): Published['manifest'] {
  const tar = gunzipSync(tgz);
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = tar.subarray(off + 345, off + 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    const full = prefix ? `${prefix}/${name}` : name;
    if (!name) break;
    if (full === 'package/package.json') return JSON.parse(tar.subarray(off + 512, off + 512 + size).toString('utf8'));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('tarball has no package/package.json');
}

export async function startLocalRegistry(tarballs: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const packages = new Map<string, Published>();
  for (const file of tarballs) {
    const tarball = await readFile(file);
    const manifest = manifestOf(tarball);
    packages.set(manifest.name, { manifest, tarball, file: basename(file) });
  }
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const tgz = /^-\/(.+)$/.exec(path);
    if (tgz) {
      const p = [...packages.values()].find((q) => q.file === tgz[1]);
      if (!p) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(p.tarball);
    }
    const p = packages.get(path);
    if (!p) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}');
    const { name, version } = p.manifest;
    const dist = {
      tarball: `${base}-/${encodeURIComponent(p.file)}`,
      shasum: createHash('sha1').update(p.tarball).digest('hex'),
      integrity: `sha512-${createHash('sha512').update(p.tarball).digest('base64')}`,
    };
    const packument = { name, 'dist-tags': { latest: version }, versions: { [version]: { ...p.manifest, _id: `${name}@${version}`, dist } } };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return { url: base, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
