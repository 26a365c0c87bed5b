/**
 * Imports point one way between top-level folders (issue 22):
 *
 *   core ← replay ← datasets ← live ← portfolio ← parity ← research ← dashboard ← report ← bench ← cli (cli.ts, cli/, root-level files) ← deploy
 *
 * A folder may import its own files and any folder to its left, never one to its right. replay and
 * datasets are peers with a fixed order (datasets reads catalogs through replay, so replay may not
 * import datasets), and so are parity and bench (the bench drives the diff, not the reverse).
 * research (the notebook API) reads replay's output and sits below bench, which measures it.
 * `testing/` holds shared test support: only test files and testing/ itself may import it, and it
 * may import anything but the cli. No file may import a test file.
 *
 * The check parses every .ts file's static imports, `export ... from` and `import('...')` with
 * TypeScript's own pre-processor (comments and strings handled as the compiler does), resolves
 * the relative ones, and lists each import against the order. It also derives the graph of
 * folders from the non-test files and requires it to be acyclic: test files are leaves (nothing
 * imports them), so they cannot close a cycle between modules, and leaving them out keeps a core
 * test's use of testing/ (which imports core) from reading as one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SKIP = new Set(['node_modules', 'out', 'tmp', 'dist', '.git']);

/** The layers, lowest first: a file may import its own layer or a lower one. */
export const LAYERS = ['core', 'replay', 'datasets', 'features', 'models', 'live', 'portfolio', 'trading', 'parity', 'research', 'dashboard', 'report', 'bench', 'cli', 'deploy'] as const;
const TESTING = 'testing';

interface SourceFile {
  /** Repo-relative, '/'-separated. */
  path: string;
  text: string;
}

interface Edge {
  from: string;
  to: string;
  specifier: string;
}

const isTest = (path: string): boolean => path.endsWith('.test.ts');

/** The top-level folder a repo-relative path belongs to; root-level files and cli/ are the cli. */
export function folderOf(path: string): string {
  const slash = path.indexOf('/');
  if (slash < 0) return 'cli';
  return path.slice(0, slash);
}

const rankOf = (folder: string): number => (LAYERS as readonly string[]).indexOf(folder);

/** Relative import specifiers of one file, resolved to repo-relative paths. */
export function relativeImports(file: SourceFile): Edge[] {
  const info = ts.preProcessFile(file.text, true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('./') || s.startsWith('../'))
    .map((specifier) => ({ from: file.path, to: posix.normalize(posix.join(posix.dirname(file.path), specifier)), specifier }));
}

/** Why an import breaks the rule, or null when it is allowed. */
export function ruleBroken(e: Edge): string | null {
  const a = folderOf(e.from);
  const b = folderOf(e.to);
  if (e.to.startsWith('../')) return 'points outside the repository';
  if (isTest(e.to)) return 'imports a test file';
  if (a === b) return null;
  if (b === TESTING) return isTest(e.from) ? null : 'testing/ is for test files only';
  if (a === TESTING) return b === 'cli' ? 'testing/ may not import the cli' : rankOf(b) < 0 ? `${b}/ is not in the layer order` : null;
  if (rankOf(a) < 0) return `${a}/ is not in the layer order (add it to LAYERS)`;
  if (rankOf(b) < 0) return `${b}/ is not in the layer order (add it to LAYERS)`;
  return rankOf(b) > rankOf(a) ? `${a} may not import ${b} (order: ${LAYERS.join(' < ')})` : null;
}

/** Each broken import as "from -> specifier: reason". */
export function violations(files: readonly SourceFile[]): string[] {
  return files.flatMap((f) =>
    relativeImports(f)
      .map((e) => [e, ruleBroken(e)] as const)
      .filter(([, why]) => why !== null)
      .map(([e, why]) => `${e.from} -> ${e.specifier}: ${why}`),
  );
}

/** A cycle in the folder graph of the non-test files (as a path a -> b -> ... -> a), or null. */
export function folderCycle(files: readonly SourceFile[]): string[] | null {
  const graph = new Map<string, Set<string>>();
  for (const f of files) {
    if (isTest(f.path)) continue;
    for (const e of relativeImports(f)) {
      const [a, b] = [folderOf(e.from), folderOf(e.to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
  }
  // depth-first search with the path on a stack: a grey node reached again closes a cycle
  const state = new Map<string, 'grey' | 'black'>();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'black') return null;
    if (state.get(n) === 'grey') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'grey');
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'black');
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

function repoSources(dir = ROOT): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (SKIP.has(d.name)) return [];
    const p = join(dir, d.name);
    if (d.isDirectory()) return repoSources(p);
    if (!d.name.endsWith('.ts')) return [];
    return [{ path: relative(ROOT, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }];
  });
}

describe('import direction between top-level folders', () => {
  const files = repoSources();

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.path === 'core/events.ts')).toBe(true);
    expect(files.some((f) => f.path.startsWith('node_modules/'))).toBe(false);
  });

  it('no import points up the order, into testing/ from non-test code, or at a test file', () => {
    expect(violations(files)).toEqual([]);
  });

  it('the folder graph of the non-test files has no cycle', () => {
    expect(folderCycle(files)).toBeNull();
  });

  it('the check itself catches upward, peer, testing and cyclic imports (static, re-export, dynamic)', () => {
    const fake: SourceFile[] = [
      { path: 'core/a.ts', text: "import { x } from '../live/x.ts';\n// import { y } from '../bench/y.ts'\nconst s = \"from '../cli.ts'\";" },
      { path: 'replay/b.ts', text: "export { z } from '../datasets/z.ts';\nexport * from '../core/events.ts';" },
      { path: 'parity/c.ts', text: "const m = await import('../bench/m.ts');\nimport type { T } from '../live/t.ts';" },
      { path: 'live/d.ts', text: "import { f } from '../testing/f.ts';" },
      { path: 'live/d.test.ts', text: "import { f } from '../testing/f.ts';\nimport '../cli.ts';" },
      { path: 'testing/f.ts', text: "import { g } from '../bench/g.ts';\nimport { h } from '../cli/h.ts';" },
      { path: 'cli.ts', text: "import { t } from './core/a.test.ts';\nimport { b } from './bench/diff-bench.ts';" },
    ];
    expect(violations(fake)).toEqual([
      `core/a.ts -> ../live/x.ts: core may not import live (order: ${LAYERS.join(' < ')})`,
      `replay/b.ts -> ../datasets/z.ts: replay may not import datasets (order: ${LAYERS.join(' < ')})`,
      `parity/c.ts -> ../bench/m.ts: parity may not import bench (order: ${LAYERS.join(' < ')})`,
      'live/d.ts -> ../testing/f.ts: testing/ is for test files only',
      `live/d.test.ts -> ../cli.ts: live may not import cli (order: ${LAYERS.join(' < ')})`,
      'testing/f.ts -> ../cli/h.ts: testing/ may not import the cli',
      'cli.ts -> ./core/a.test.ts: imports a test file',
    ]);
    expect(folderCycle(fake)).toEqual(['cli', 'core', 'live', 'testing', 'cli']);
    expect(folderCycle([{ path: 'core/a.ts', text: "import '../replay/b.ts';" }, { path: 'replay/b.ts', text: "import '../core/a.ts';" }])).toEqual(['core', 'replay', 'core']);
  });
});
