// Package hygiene for npm: every published package folder has a LICENSE (the root's MIT text)
// and a README whose ```ts examples (and the root README's) typecheck against the packages'
// sources, so an example a newcomer copies cannot silently drift from the API. Blocks that are not TypeScript use
// another fence (```sh, ```json). `npx vitest run tools/release/readme-examples.test.ts`
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, typescriptBlocks, type CodeBlock } from './readme-code-blocks.js';
import { type SnippetDiagnostic, typecheckSnippets } from './typecheck-snippets.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface PackageDir {
  readonly dir: string;
  readonly name: string;
  readonly library: boolean;
}

/** The folders npm publishes: packages/* and apps/* whose package.json is not private. */
function publishedPackages(): PackageDir[] {
  const out: PackageDir[] = [];
  for (const group of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, group)).sort()) {
      const file = join(root, group, d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean };
      if (!pkg.private) out.push({ dir: `${group}/${d}`, name: pkg.name, library: group === 'packages' });
    }
  }
  return out;
}

const packages = publishedPackages();
const readmes = packages.map((p) => `${p.dir}/README.md`).filter((f) => existsSync(join(root, f)));

interface Example extends CodeBlock {
  readonly readme: string;
  /** Where the block pretends to live (never written): beside its README, so it resolves modules as that package would. */
  readonly path: string;
}

// The root README's "In code" example is the pattern the package READMEs follow, so it is held to the same check.
const examples: Example[] = ['README.md', ...readmes].flatMap((readme) =>
  typescriptBlocks(readFileSync(join(root, readme), 'utf8')).map((b) => ({
    ...b,
    readme,
    path: join(root, dirname(readme), `.readme-example-L${b.line}.ts`),
  })),
);

describe('codeBlocks', () => {
  it('finds fenced blocks with their language and opening line, and only ts ones as TypeScript', () => {
    const md = ['# t', '```ts', 'const a = 1;', '```', '', '````md', '```ts', 'inside', '```', '````', '~~~TypeScript', 'let b', '~~~', '```sh', 'npm i', '```'].join('\n');
    expect(codeBlocks(md)).toEqual([
      { lang: 'ts', line: 2, code: 'const a = 1;' },
      { lang: 'md', line: 6, code: '```ts\ninside\n```' },
      { lang: 'typescript', line: 11, code: 'let b' },
      { lang: 'sh', line: 14, code: 'npm i' },
    ]);
    expect(typescriptBlocks(md).map((b) => b.line)).toEqual([2, 11]);
  });
});

describe('package folders', () => {
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');

  it('the root LICENSE is MIT by the adm authors', () => {
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toContain('Copyright (c) 2026 the adm authors');
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  it('finds the eleven published packages', () => {
    expect(packages.map((p) => p.name).sort()).toEqual(
      ['backends', 'cli', 'core', 'eval', 'guidance', 'models-mnist', 'native', 'samplers', 'schedules', 'train', 'unet'].map((n) => `@adm/${n}`),
    );
  });

  it.each(packages.map((p) => [p.dir, p] as const))('%s has the root LICENSE and a README that installs it', (dir, { name }) => {
    expect(readFileSync(join(root, dir, 'LICENSE'), 'utf8'), `${dir}/LICENSE`).toBe(license);
    const readme = readFileSync(join(root, dir, 'README.md'), 'utf8');
    const install = codeBlocks(readme).filter((b) => ['sh', 'bash', 'shell'].includes(b.lang) && /npm install (-g )?.*@adm\//.test(b.code));
    expect(install.some((b) => b.code.includes(name)), `${dir}/README.md: an \`npm install ${name}\` block`).toBe(true);
  });

  it.each(packages.filter((p) => p.library).map((p) => [p.dir, p] as const))('%s/README.md has a TypeScript example importing its package', (dir, { name }) => {
    const own = examples.filter((e) => e.readme === `${dir}/README.md` && new RegExp(`(from|import) '${name}'`).test(e.code));
    expect(own.length, `${dir}/README.md: a \`\`\`ts block importing ${name}`).toBeGreaterThan(0);
  });

  it.each(readmes)('%s links only to files that exist', (readme) => {
    const text = readFileSync(join(root, readme), 'utf8');
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/i.test(l));
    const missing = links.filter((l) => !existsSync(resolve(root, dirname(readme), l)));
    expect(missing, `${readme}: relative links to missing files`).toEqual([]);
  });
});

describe('README examples typecheck against the sources', () => {
  // A snippet that must fail proves the checker reports errors at all (a wrong path setup would pass everything).
  const control = { path: join(root, 'packages/core/.readme-example-control.ts'), code: "import { noSuchExport } from '@adm/core';\nconsole.log(noSuchExport);" };
  let diagnostics = new Map<string, SnippetDiagnostic[]>();

  beforeAll(() => {
    diagnostics = typecheckSnippets(root, [...examples, control]);
  });

  it('reports an import of a name a package does not export', () => {
    expect(diagnostics.get(control.path)?.map((d) => [d.line, d.message.slice(0, 7)])).toEqual([[1, 'TS2305:']]);
  });

  it.each(examples.map((e) => [`${e.readme}:${e.line}`, e] as const))('%s', (_name, e) => {
    // Lines reported as the README's own, so the message points at the line to fix.
    const errors = diagnostics.get(e.path)!.map((d) => `${e.readme}:${e.line + d.line}:${d.column} ${d.message}`);
    expect(errors, `the \`\`\`ts block at ${e.readme}:${e.line} (${relative(root, e.path)}) does not compile`).toEqual([]);
  });
});
