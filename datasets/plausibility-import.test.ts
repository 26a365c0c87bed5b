/**
 * The plausibility rule (core/plausibility.ts) at import, through the real CLI: a hostile but
 * well-formed CSV row is refused with one line naming file, line, field and value (exit 2), or
 * counted and skipped with --on-error skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
let dir: string;
let csv: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-plaus-import-'));
  csv = join(dir, 'EURUSD_2019-02-04_04_ticks.csv');
  writeFileSync(csv, ['ts_utc_ms,bid,ask,bid_volume_m,ask_volume_m', '1549238400994,1.14543,1.14545,2.06,1', '1549238401271,1e308,1.14546,1,1', '1549238401300,1.14544,1.14546,1,1', ''].join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

describe('import refuses absurd magnitudes (plausibility rule)', () => {
  it('a bid of 1e308: one line naming file, line, field and value, exit 2', () => {
    const r = cli('datasets', 'import', '--format', 'dukascopy', '--in', csv, '--out', join(dir, 'cat'));
    expect(r.status, r.stderr + r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${csv}, line 3, field bid: must be a finite number of magnitude < 1000000000000000 (value "1e308")`);
  });

  it('--on-error skip counts it and imports the rest', () => {
    const r = cli('datasets', 'import', '--format', 'dukascopy', '--in', csv, '--out', join(dir, 'cat2'), '--on-error', 'skip', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rejected).toBe(1);
    expect(report.events.quote).toBe(2);
  });
});
