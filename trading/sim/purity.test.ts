/**
 * The fill simulator runs inside replays and would run the same way live: its files must be as pure
 * as core/ (no wall clock, randomness, timers, promises, process or I/O), by core's own scan.
 * real-events.ts (test support that imports real files) is the one exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bannedImports, CORE_RULES, impurities } from '../../core/purity-scan.ts';

const DIR = new URL('.', import.meta.url).pathname;
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'real-events.ts');

describe('fill simulator purity', () => {
  it('scans the simulator files', () => expect(FILES).toEqual(expect.arrayContaining(['matcher.ts', 'queue.ts', 'book.ts', 'latency.ts'])));
  for (const f of FILES) {
    it(f, () => {
      const src = readFileSync(DIR + f, 'utf8');
      expect([...impurities(src, CORE_RULES), ...bannedImports(src)]).toEqual([]);
    });
  }
});
