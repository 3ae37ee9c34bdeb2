// `npm run parity -- [fixture-root] [--backend cpu|wasm|...] [--filter regex]`
// Runs every case folder (one holding case.json) under the root against guided-diffusion's
// reference outputs. Exit status 0 only when every case passed.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAll } from './parity/runner.js';

const args = process.argv.slice(2);
let root = resolve(fileURLToPath(new URL('../../shared/fixtures', import.meta.url)));
let backend = process.env.ADM_BACKEND ?? 'cpu';
let filter: RegExp | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--backend') backend = args[++i];
  else if (a === '--filter') filter = new RegExp(args[++i]);
  else if (a === '--help' || a === '-h') {
    console.log('usage: npm run parity -- [fixture-root] [--backend <name>] [--filter <regex>]');
    process.exit(0);
  } else if (a.startsWith('-')) {
    console.error(`parity: unknown flag ${a} (known: --backend, --filter, --help)`);
    process.exit(2);
  } else root = resolve(a);
}
const results = await runAll(root, { backend, filter });
process.exit(results.every((r) => r.pass) ? 0 : 1);
