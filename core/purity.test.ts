/**
 * core/ must be pure: event time is its only clock. This scans every source file (comments and
 * string literals stripped) for wall clocks, randomness, timers, promises, process and I/O, with
 * the scan the CLI also runs on a user's factors (purity-scan.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bannedImports, CORE_RULES, FACTOR_RULES, impurities } from './purity-scan.ts';

const CORE = new URL('.', import.meta.url).pathname;

function violations(src: string): string[] {
  const hits = impurities(src, CORE_RULES);
  if (bannedImports(src).length > 0) hits.push('I/O or runtime module import');
  return hits;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    // tests and the offline reference-value script may do I/O; they are not part of the core
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('core purity', () => {
  const files = sources(CORE);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  for (const file of files) {
    it(`${relative(CORE, file)} uses no clock, randomness, timers, promises or I/O`, () => {
      expect(violations(readFileSync(file, 'utf8'))).toEqual([]);
    });
  }

  it('the scan catches violations', () => {
    const bad = ['const t = Date.now();', 'await x;', 'import { readFileSync } from "node:fs";', 'Math.random()', 'setTimeout(f, 1)', 'process.env.X'];
    for (const src of bad) expect(violations(src).length, src).toBeGreaterThan(0);
    expect(violations('// no Date here\nconst s = "performance";')).toEqual([]);
    // a template's expressions are code, its text is not; a // inside a string is not a comment
    expect(impurities('const s = `at ${Date.now()} ms`;')).toEqual(['Date (wall clock)']);
    expect(impurities('const s = `Date ${x}`; const u = "http://x"; Math.random();')).toEqual(['Math.random (unseeded randomness)']);
  });

  it("the factor scan also catches a factor's ways around the rules", () => {
    const bad = ['globalThis.x', 'eval("1")', 'readFileSync(p)', 'new Function("x")'];
    for (const src of bad) expect(impurities(src, FACTOR_RULES).length, src).toBeGreaterThan(0);
    expect(bannedImports("import { readFileSync } from 'node:fs';\nimport x from 'lockstep';\nconst m = await import('os');")).toEqual(['node:fs', 'os']);
    expect(bannedImports("// import 'fs'\nimport { fsx } from './fsx.ts';")).toEqual([]);
  });
});
