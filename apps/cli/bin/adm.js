#!/usr/bin/env node
// Installed entry of the `adm` command: runs the built CLI (dist/main.js does not start itself
// when loaded from here).
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
