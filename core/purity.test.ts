/**
 * core/ must be pure: event time is its only clock. This scans every source file (comments and
 * string literals stripped) for wall clocks, randomness, timers, promises, process and I/O.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = new URL('.', import.meta.url).pathname;

/** Module imports are checked with string literals intact (the module name is a string). */
const BANNED_IMPORT = /from\s+['"](node:|fs|path|os|net|http|https|child_process|worker_threads|ioredis|apache-arrow|parquet-wasm)/;

function violations(src: string): string[] {
  const hits = BANNED.filter(([re]) => re.test(stripCommentsAndStrings(src))).map(([, what]) => what);
  if (BANNED_IMPORT.test(stripComments(src))) hits.push('I/O or runtime module import');
  return hits;
}

const BANNED: [RegExp, string][] = [
  [/\bDate\b/, 'Date (wall clock)'],
  [/\bperformance\b/, 'performance (wall clock)'],
  [/\bMath\.random\b/, 'Math.random (unseeded randomness)'],
  [/\bcrypto\b/, 'crypto (randomness / I/O)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, 'timers'],
  [/\b(Promise|async|await)\b/, 'promises'],
  [/\bprocess\b/, 'process (environment)'],
  [/\brequire\s*\(/, 'require'],
  [/\bimport\s*\(/, 'dynamic import'],
  [/\b(fetch|XMLHttpRequest|WebSocket)\b/, 'network'],
];

/** Removes comments and string/template literal contents so prose does not trip the scan. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:])\/\/[^\n]*/g, '$1 ');
}

function stripCommentsAndStrings(src: string): string {
  return stripComments(src)
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/`(?:[^`\\]|\\.)*`/g, '``');
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
  });
});
