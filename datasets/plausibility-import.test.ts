/**
 * The plausibility rule (core/plausibility.ts) at import, through the real CLI: a hostile but
 * well-formed row is refused with one line naming file, line, field and value (exit 2), or
 * counted and skipped with --on-error skip, in every format (Dukascopy's CSV, a Binance capture,
 * a LOBSTER archive). A catalog imported with skip then replays: replay applies the same rule, so
 * a row the importer let through would fail it there.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedZip } from '../testing/stored-zip.ts';

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

/** Imports with --on-error skip, then replays the catalog's `date`: both must exit 0. */
function importSkipAndReplay(format: string, input: string, date: string): { rejected: number; events: Record<string, number>; rejectedSample: { line: number; field: string; value: string }[] } {
  const cat = join(dir, `${format}-skip`);
  const r = cli('datasets', 'import', '--format', format, '--in', input, '--out', cat, '--on-error', 'skip', '--json');
  expect(r.status, r.stderr).toBe(0);
  const replay = cli('replay', '--catalog', cat, '--date', date, '--out', join(dir, `${format}.parquet`));
  expect(replay.stderr).toBe('');
  expect(replay.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('Binance: absurd magnitudes and a trade time far ahead are refused at import', () => {
  // 2024-08-08 00:00 UTC; one line a millisecond
  const T0 = 1_723_075_200_000;
  const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
  const tick = (ms: number, b: string, B: string) => `${ns(ms)} {"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"${b}","B":"${B}","a":"100.5","A":"1.0"}}`;
  const trade = (ms: number, p: string, T: number) => `${ns(ms)} {"stream":"btcusdt@trade","data":{"e":"trade","E":${T},"s":"BTCUSDT","t":${ms},"p":"${p}","q":"0.5","T":${T},"m":true}}`;
  const HUGE = '1' + '0'.repeat(20); // a Binance decimal string (no exponent) worth 1e20
  let file: string;
  beforeAll(() => {
    file = join(dir, 'btcusdt_20240808.txt');
    writeFileSync(file, [
      tick(T0, '100.0', '1.0'),
      trade(T0 + 1, HUGE, T0 + 1), // line 2: price 1e20
      tick(T0 + 2, '100.0', HUGE), // line 3: bid size 1e20
      trade(T0 + 3, '100.2', T0 + 3 + 2 * 86_400_000), // line 4: trade time 2 days after receipt
      trade(T0 + 4, '1' + '0'.repeat(400), T0 + 4), // line 5: a price that parses to Infinity
      trade(T0 + 5, '100.2', T0 + 5),
      '',
    ].join('\n'));
  });

  it('a price of 1e20: one line naming file, line, field and value, exit 2', () => {
    const r = cli('datasets', 'import', '--format', 'binance', '--in', file, '--out', join(dir, 'bn-fail'));
    expect(r.status, r.stderr + r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${file}, line 2, field p: must be a finite number of magnitude < 1000000000000000 (value "${HUGE}")`);
  });

  it('--on-error skip counts each (price, size, time, Infinity) and the catalog replays', () => {
    const rep = importSkipAndReplay('binance', file, '2024-08-08');
    expect(rep.rejectedSample.map((x) => [x.line, x.field])).toEqual([[2, 'p'], [3, 'B'], [4, 'T'], [5, 'p']]);
    expect(rep.rejected).toBe(4);
    expect(rep.events.trade).toBe(1);
    expect(rep.events.quote).toBe(1);
  });
});

describe('LOBSTER: absurd sizes are refused at import', () => {
  // A size of 5e15 is a safe integer (the importer's integer check passes it) but above the bound.
  const HUGE = '5000000000000000';
  const base = 'TEST_2012-01-03_34200000_57600000';
  const msgs = ['34200.5,1,1,100,1010000,-1', `34201,4,1,${HUGE},1010000,-1`, '34202,1,2,50,1000000,1', '34203,1,3,10,1000000,1'];
  const books = ['1010000,100,0,0', '1010000,100,0,0', `1010000,100,1000000,${HUGE}`, '1010000,100,1000000,60'];
  let zip: string;
  beforeAll(() => {
    zip = join(dir, 'huge.zip');
    writeFileSync(zip, storedZip([{ name: `${base}_message_1.csv`, text: msgs.join('\n') + '\n' }, { name: `${base}_orderbook_1.csv`, text: books.join('\n') + '\n' }]));
  });

  it('a trade size of 5e15: one line naming file, line, field and value, exit 2', () => {
    const r = cli('datasets', 'import', '--format', 'lobster', '--in', zip, '--out', join(dir, 'lob-fail'));
    expect(r.status, r.stderr + r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${zip}!${base}_message_1.csv, line 2, field size: must be a finite number of magnitude < 1000000000000000 (value "${HUGE}")`);
  });

  it('--on-error skip counts the trade and the book row, and the catalog replays', () => {
    const rep = importSkipAndReplay('lobster', zip, '2012-01-03');
    expect(rep.rejectedSample.map((x) => [x.line, x.field, x.value])).toEqual([[2, 'size', HUGE], [3, 'bid_sz_1', HUGE]]);
    expect(rep.rejected).toBe(2);
    expect(rep.events.trade).toBeUndefined();
  });
});
