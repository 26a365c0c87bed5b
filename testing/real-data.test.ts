/**
 * The real-data tests take their folder from LOCKSTEP_REAL_DATA, and a suite skipped for want of
 * its data says so once, with the path it looked for. Run through vitest itself, on a real-data
 * test file (datasets/import-sec.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { realData, realDataDir, REAL_DATA_ENV } from './real-data.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITE = 'importSec on the real AAPL and TSLA fundamentals';
const tmp = mkdtempSync(join(tmpdir(), 'lockstep-realdata-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vitest(file: string, dataDir: string): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', file, '--reporter=verbose'], {
    cwd: ROOT,
    env: { ...process.env, [REAL_DATA_ENV]: dataDir, FORCE_COLOR: '0', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  return { out: r.stdout + r.stderr, status: r.status };
}

describe('real-data tests', () => {
  it('take the folder from LOCKSTEP_REAL_DATA', () => {
    const saved = process.env[REAL_DATA_ENV];
    try {
      process.env[REAL_DATA_ENV] = tmp;
      expect(realDataDir()).toBe(tmp);
      mkdirSync(join(tmp, 'some_dataset'), { recursive: true });
      expect(realData('probe', 'some_dataset').present).toBe(true);
      expect(realData('probe', 'some_dataset', 'absent.csv').present).toBe(false);
    } finally {
      if (saved === undefined) delete process.env[REAL_DATA_ENV];
      else process.env[REAL_DATA_ENV] = saved;
    }
  });

  it('say once which suite was skipped and why when the data is not there', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const { out, status } = vitest('datasets/import-sec.test.ts', empty);
    expect(status).toBe(0);
    const lines = out.split('\n').filter((l) => l.includes('[real data] skipped'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"${SUITE}": ${join(empty, 'fundamentals_sec')} not found (${REAL_DATA_ENV}=${empty}`);
    expect(out).toMatch(/Tests\s+\d+ passed \| \d+ skipped/);
  }, 120_000);

  const real = realData('the real-data folder found through LOCKSTEP_REAL_DATA', 'fundamentals_sec');
  it.skipIf(!real.present)('run them from the folder LOCKSTEP_REAL_DATA names', () => {
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(real.path('fundamentals_sec'), join(elsewhere, 'fundamentals_sec'));
    const { out, status } = vitest('datasets/import-sec.test.ts', elsewhere);
    expect(status).toBe(0);
    expect(out).not.toContain('[real data] skipped');
    expect(out).toMatch(/Tests\s+\d+ passed/);
    expect(out).not.toMatch(/Tests\s+.*skipped/);
  }, 120_000);
});
