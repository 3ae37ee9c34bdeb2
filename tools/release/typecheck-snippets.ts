// Typechecks code snippets (README examples) in memory against the packages' sources: one
// TypeScript program with tsconfig.base.json's options and `paths`, the snippets as virtual
// files, nothing written to disk.
import { join } from 'node:path';
import ts from 'typescript';

export interface Snippet {
  /** Absolute path the snippet pretends to live at (inside the repository, for module resolution). */
  readonly path: string;
  readonly code: string;
}

export interface SnippetDiagnostic {
  /** 1-based line and column inside the snippet (0 when the diagnostic has no position). */
  readonly line: number;
  readonly column: number;
  /** "TS2305: Module ... has no exported member ...". */
  readonly message: string;
}

function compilerOptions(root: string): ts.CompilerOptions {
  const file = join(root, 'tsconfig.base.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, file);
  if (parsed.errors.length) throw new Error(`${file}: ${parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  // An example that imports what it never uses teaches the wrong API, so unused names are errors here.
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, noUnusedLocals: true };
}

/** Typecheck every snippet as an ES module (top-level await allowed) in one program. */
export function typecheckSnippets(root: string, snippets: readonly Snippet[]): Map<string, SnippetDiagnostic[]> {
  const options = compilerOptions(root);
  // `export {}` makes a snippet without imports a module too (top-level await, no global clashes).
  const sources = new Map(snippets.map((s) => [s.path, `${s.code}\nexport {};\n`]));
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => sources.has(f) || fileExists.call(host, f);
  host.readFile = (f) => sources.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = sources.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang, true, ts.ScriptKind.TS) : getSourceFile.call(host, f, lang, onError, create);
  };
  const program = ts.createProgram({ rootNames: [...sources.keys()], options, host });
  const out = new Map<string, SnippetDiagnostic[]>();
  for (const path of sources.keys()) {
    const sf = program.getSourceFile(path)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    out.set(
      path,
      diags.map((d) => {
        const at = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start) : { line: -1, character: -1 };
        return { line: at.line + 1, column: at.character + 1, message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}` };
      }),
    );
  }
  return out;
}
