/**
 * The trading side's folds run unchanged in replay and live (`lockstep pnl` / `desk`, `execute`
 * replay / `execute --redis`, `kill-policy` / `kill-guard`): their files must be as pure as core/
 * (no wall clock, randomness, timers, promises, process or I/O), by core's own scan. The adapters
 * (*-live.ts, *-replay.ts, run-*.ts, gateway-sim.ts, kill-guard.ts, files and wire codecs) are not
 * listed: they are the I/O around the folds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bannedImports, CORE_RULES, impurities } from '../core/purity-scan.ts';

const DIR = new URL('.', import.meta.url).pathname;
const PURE = [
  'types.ts', 'money.ts', 'ledger.ts', 'ledger-snapshot.ts', 'ledger-codec.ts', 'limits.ts', 'pnl-fold.ts',
  'desk-fold.ts', 'desk-checkpoint.ts', 'kill-detector.ts', 'tca.ts',
  'exec/algo.ts', 'exec/exec-codec.ts', 'exec/exec-fold.ts', 'exec/market-view.ts', 'exec/schedule.ts', 'exec/types.ts',
];

describe('trading folds purity', () => {
  for (const f of PURE) {
    it(f, () => {
      const src = readFileSync(DIR + f, 'utf8');
      expect([...impurities(src, CORE_RULES), ...bannedImports(src)]).toEqual([]);
    });
  }
});
