// core/ must stay pure: event time is the only clock, no I/O, no randomness. This scans the kernel
// sources (not their tests, which may read fixtures) for anything that would break that.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const BANNED: [string, RegExp][] = [
  ['Date', /\bDate\b/],
  ['performance', /\bperformance\b/],
  ['Math.random', /Math\.random/],
  ['timers', /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ['process', /\bprocess\b/],
  ['promises', /\b(Promise|async|await)\b/],
  ['node modules', /from\s+['"](node:|fs|path|os|crypto|child_process|worker_threads|net|http)/],
  ['require', /\brequire\s*\(/],
  ['console', /\bconsole\./],
];

/** Source without comments and string contents, so prose and messages cannot trip the scan. */
function code(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/`(?:[^`\\]|\\.)*`/g, '``');
}

describe('core/kernels purity', () => {
  const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it('has kernel sources to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const f of files) {
    it(`${f} uses no clock, randomness, timers, promises or I/O`, () => {
      const src = code(readFileSync(path.join(here, f), 'utf8'));
      const hits = BANNED.filter(([, re]) => re.test(src)).map(([name]) => name);
      expect(hits).toEqual([]);
    });
  }
});
