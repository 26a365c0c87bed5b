/**
 * The row policy shared by every importer (import-policy.ts, docs/catalog.md "Row policy"),
 * through the real CLI on hand-made files: a row going back in time is a rejected row in every
 * format, a row of a symbol other than `--symbol` is rejected, rows of a symbol the file name does
 * not give are listed in the notes, and crossed/locked quotes are counted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportReport } from './import-report.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { storedZip } from '../testing/stored-zip.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-import-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let outs = 0;
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), 'datasets', 'import', ...args, '--out', path.join(tmp, `out-${++outs}`)], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function json(...args: string[]): ImportReport {
  const r = cli(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ImportReport;
}
function write(dir: string, name: string, text: string): string {
  mkdirSync(path.join(tmp, dir), { recursive: true });
  const f = path.join(tmp, dir, name);
  writeFileSync(f, text);
  return f;
}

describe('TAQ', () => {
  // line 3 goes back 1 ms; line 4 is for YYY in a file named XXX_...; line 5 is a crossed quote, line 6 locked
  const quotes = write('taq', 'XXX_2018-01-02_quotes_raw.csv', [
    'ts_utc_ms,time_new_york,EX,BID,BIDSIZ,OFR,OFRSIZ,SYMBOL',
    '1514903400000,2018-01-02T09:30:00.000,N,159.00,1,159.10,2,XXX',
    '1514903399999,2018-01-02T09:29:59.999,N,159.00,1,159.10,2,XXX',
    '1514903400001,2018-01-02T09:30:00.001,N,159.01,1,159.11,2,YYY',
    '1514903400002,2018-01-02T09:30:00.002,P,159.12,1,159.07,2,XXX',
    '1514903400003,2018-01-02T09:30:00.003,P,159.08,1,159.08,2,XXX',
  ].join('\n') + '\n');

  it('rejects a row whose time goes backwards (it used to be re-sorted silently)', () => {
    const r = cli('--format', 'taq', '--in', quotes);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${quotes}, line 3, field ts_utc_ms: goes backwards (the previous row has 1514903400000) (value "1514903399999")`);
    const rep = json('--format', 'taq', '--in', quotes, '--on-error', 'skip');
    expect(rep.rejected).toBe(1);
    expect(rep.rejectedSample.map((x) => [x.line, x.field])).toEqual([[3, 'ts_utc_ms']]);
    expect(rep.events.quote).toBe(4);
  });

  it('names a symbol the file name does not give, and rejects it under --symbol', () => {
    const rep = json('--format', 'taq', '--in', quotes, '--on-error', 'skip');
    expect(rep.notes).toContain('symbols: XXX (3 rows), YYY (1 rows)');
    expect(rep.notes).toContain(`${quotes}: 1 rows for symbols not named by the file name (XXX): YYY 1; imported under their own symbols (give --symbol to accept only one)`);
    const only = json('--format', 'taq', '--in', quotes, '--on-error', 'skip', '--symbol', 'XXX');
    expect(only.rejected).toBe(2);
    expect(only.rejectedSample.map((x) => [x.line, x.field, x.reason])).toEqual([
      [3, 'ts_utc_ms', 'goes backwards (the previous row has 1514903400000)'],
      [4, 'SYMBOL', 'is not XXX, the symbol given by --symbol'],
    ]);
    expect(only.events.quote).toBe(3);
  });

  it('counts crossed and locked quotes in the notes', () => {
    const rep = json('--format', 'taq', '--in', quotes, '--on-error', 'skip');
    expect(rep.notes).toContain('quotes: 1 crossed (bid > ask), 1 locked (bid = ask) of 4 two-sided quotes, kept as given (factor quote_crossed_flag marks them)');
  });

  it('replay flags the crossed quote (quote_crossed_flag 1) and gives it no microprice', async () => {
    const cat = path.join(tmp, 'taq-cat');
    const imp = spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), 'datasets', 'import', '--format', 'taq', '--in', quotes, '--on-error', 'skip', '--symbol', 'XXX', '--out', cat], { encoding: 'utf8', cwd: repoRoot });
    expect(imp.status).toBe(0);
    const out = path.join(tmp, 'taq-factors.parquet');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), 'replay', '--catalog', cat, '--date', '2018-01-02', '--out', out], { encoding: 'utf8', cwd: repoRoot });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const t = await readFactorTable(out);
    const rows = t.seq.map((_, i) => i).filter((i) => t.source[i] === 'quote');
    const col = (name: string) => rows.map((i) => t.values[name][i]);
    // quotes: 159.00/159.10, crossed 159.12/159.07 (sizes 100/200), locked 159.08/159.08
    expect(col('quote_crossed_flag')).toEqual([0, 1, 0]);
    expect(col('spread').map((v) => Number(v!.toFixed(6)))).toEqual([0.1, -0.05, 0]);
    expect(col('microprice')).toEqual([(159 * 200 + 159.1 * 100) / 300, null, 159.08]);
    expect(col('mid')[1]).toBeCloseTo(159.095, 9);
    expect(col('quote_imbalance')[1]).toBeCloseTo(-1 / 3, 12);
  });
});

describe('Dukascopy', () => {
  const ticks = ['ts_utc_ms,bid,ask,bid_volume_m,ask_volume_m', '1549238400000,1.14500,1.14510,1.5,1.5', '1549238399000,1.14500,1.14510,1.5,1.5', '1549238401000,1.14520,1.14510,1.5,1.5'].join('\n') + '\n';

  it('rejects a tick whose time goes backwards', () => {
    const f = write('duka', 'EURUSD_2019-02-04_ticks.csv', ticks);
    const r = cli('--format', 'dukascopy', '--in', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}, line 3, field ts_utc_ms: goes backwards`);
    const rep = json('--format', 'dukascopy', '--in', f, '--on-error', 'skip');
    expect([rep.rejected, rep.events.quote]).toEqual([1, 2]);
    expect(rep.notes).toContain('symbols: EURUSD (from the file names)');
    expect(rep.notes).toContain('quotes: 1 crossed (bid > ask), 0 locked (bid = ask) of 2 two-sided quotes, kept as given (factor quote_crossed_flag marks them)');
  });

  it('takes --symbol when the file name gives none', () => {
    const f = write('duka2', '_ticks.csv', ticks);
    const r = cli('--format', 'dukascopy', '--in', f, '--on-error', 'skip');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${f}: cannot take a symbol from the file name (expected <SYMBOL>_..._ticks.csv[.gz]); give it with --symbol`);
    const rep = json('--format', 'dukascopy', '--in', f, '--on-error', 'skip', '--symbol', 'GBPUSD');
    expect(rep.notes).toContain('symbols: GBPUSD (--symbol)');
  });
});

describe('SEC', () => {
  const header = 'symbol,fiscal_year,fiscal_period,form,period_end,eps_basic,eps_diluted,shares_outstanding,book_value_per_share,announce_accepted_et,filed_date,filed_accepted_et';
  it('rejects a row made public before the previous one, and one of another symbol under --symbol', () => {
    const f = write('sec', 'AAPL_quarterly_fundamentals_sec.csv', [
      header,
      'AAPL,2015,Q1,10-Q,2014-12-27,3.08,3.06,5800000000,19.0,2015-01-27T16:30:00,2015-01-28,',
      'AAPL,2015,Q2,10-Q,2015-03-28,2.34,2.33,5700000000,19.5,2015-01-20T16:30:00,2015-04-29,',
      'MSFT,2015,Q3,10-Q,2015-06-27,1.86,1.85,5700000000,19.6,2015-07-21T16:30:00,2015-07-22,',
    ].join('\n') + '\n');
    const r = cli('--format', 'sec', '--in', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}, line 3, field announce_accepted_et: goes backwards`);
    const rep = json('--format', 'sec', '--in', f, '--on-error', 'skip');
    expect([rep.rejected, rep.events.fundamental]).toEqual([1, 2]);
    expect(rep.notes).toContain(`${f}: 1 rows for symbols not named by the file name (AAPL): MSFT 1; imported under their own symbols (give --symbol to accept only one)`);
    const only = json('--format', 'sec', '--in', f, '--on-error', 'skip', '--symbol', 'AAPL');
    expect(only.rejectedSample.map((x) => [x.line, x.field])).toEqual([[3, 'announce_accepted_et'], [4, 'symbol']]);
  });
});

describe('Binance', () => {
  const tick = (ts: number, s: string, b: string, a: string) => `${ts} {"stream":"${s.toLowerCase()}@bookTicker","data":{"u":1,"s":"${s}","b":"${b}","B":"1.0","a":"${a}","A":"1.0"}}`;
  it('rejects a line received before the previous one, and other symbols under --symbol', () => {
    const f = write('binance', 'btcusdt_20240808.txt', [tick(1_000_000_000, 'BTCUSDT', '100.0', '100.5'), tick(999_999_999, 'BTCUSDT', '100.0', '100.5'), tick(1_000_000_001, 'ETHUSDT', '10.0', '10.0')].join('\n') + '\n');
    const r = cli('--format', 'binance', '--in', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}, line 2, field ts_recv: goes backwards`);
    const rep = json('--format', 'binance', '--in', f, '--on-error', 'skip');
    expect(rep.rejected).toBe(1);
    expect(rep.notes).toContain('symbols: BTCUSDT (1 rows), ETHUSDT (1 rows)');
    expect(rep.notes).toContain('quotes: 0 crossed (bid > ask), 1 locked (bid = ask) of 2 two-sided quotes, kept as given (factor quote_crossed_flag marks them)');
    const only = json('--format', 'binance', '--in', f, '--on-error', 'skip', '--symbol', 'BTCUSDT');
    expect(only.rejectedSample.map((x) => [x.line, x.field])).toEqual([[2, 'ts_recv'], [3, 's']]);
  });
});

describe('LOBSTER', () => {
  it('rejects a message going backwards, renames with --symbol and counts a crossed quote', () => {
    const base = 'TEST_2012-01-03_34200000_57600000';
    const msgs = ['34200.5,1,1,100,1010000,-1', '34200.4,1,2,50,1000000,1', '34201,1,3,50,1020000,1'];
    const books = ['1010000,100,0,0', '1010000,100,1000000,50', '1010000,100,1020000,50'];
    mkdirSync(path.join(tmp, 'lobster'), { recursive: true });
    const zip = path.join(tmp, 'lobster', 'x.zip');
    writeFileSync(zip, storedZip([{ name: `${base}_message_1.csv`, text: msgs.join('\n') + '\n' }, { name: `${base}_orderbook_1.csv`, text: books.join('\n') + '\n' }]));
    const r = cli('--format', 'lobster', '--in', zip);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 2, field time: goes backwards');
    const rep = json('--format', 'lobster', '--in', zip, '--on-error', 'skip', '--symbol', 'ZZZ');
    expect(rep.rejected).toBe(1);
    expect(rep.notes).toContain('symbols: ZZZ (--symbol; the file names say TEST)');
    expect(rep.notes).toContain('quotes: 1 crossed (bid > ask), 0 locked (bid = ask) of 1 two-sided quotes, kept as given (factor quote_crossed_flag marks them)');
  });
});

describe('depth imbalance on a book shallower than its levels (LOBSTER level 1)', () => {
  it('depth_imbalance_5 and _10 are null, depth_imbalance_1 is the level-1 imbalance', async () => {
    const base = 'ONE_2012-01-03_34200000_57600000';
    const msgs = ['34200.5,1,1,100,1010000,-1', '34201,1,2,300,1000000,1', '34202,1,3,100,1000000,1'];
    const books = ['1010000,100,0,0', '1010000,100,1000000,300', '1010000,100,1000000,400'];
    mkdirSync(path.join(tmp, 'lobster1'), { recursive: true });
    const zip = path.join(tmp, 'lobster1', 'one.zip');
    writeFileSync(zip, storedZip([{ name: `${base}_message_1.csv`, text: msgs.join('\n') + '\n' }, { name: `${base}_orderbook_1.csv`, text: books.join('\n') + '\n' }]));
    const cat = path.join(tmp, 'lobster1-cat');
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: repoRoot });
    expect(run('datasets', 'import', '--format', 'lobster', '--in', zip, '--out', cat).status).toBe(0);
    const out = path.join(tmp, 'lobster1.parquet');
    const r = run('replay', '--catalog', cat, '--date', '2012-01-03', '--kinds', 'book', '--out', out, '--factor-param', 'depth_imbalance_5.levels=1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const t = await readFactorTable(out);
    const rows = t.seq.map((_, i) => i).filter((i) => t.source[i] === 'book');
    // a one-sided snapshot (ask 100 only: no bid level, so null even at 1 level), then bids 300 and 400
    expect(rows.map((i) => t.values.depth_imbalance_1[i])).toEqual([null, 0.5, 0.6]);
    // version 1 gave 0.5, 0.6 here too: the level-1 imbalance under a 10-level name
    expect(rows.map((i) => t.values.depth_imbalance_10[i])).toEqual([null, null, null]);
  });
});

describe('vwap_session sessions (item 14, first step)', () => {
  it('us-equity counts only 09:30-16:00 New York (EST and EDT days); fx-ny17 rolls at 17:00 New York; utc stays as it was', async () => {
    // 2018-01-02 is EST (UTC-5): 08:00 pre-market, 09:30 open, 12:00, 16:30 after the close, 17:30 after the FX roll
    // 2018-03-13 is EDT (UTC-4): 09:29:59.999 pre-market, 09:30 open
    const et = (iso: string, offsetH: number) => String(Date.parse(`${iso}Z`) + offsetH * 3_600_000);
    const rows = [
      [et('2018-01-02T08:00:00', 5), 100],
      [et('2018-01-02T09:30:00', 5), 101],
      [et('2018-01-02T12:00:00', 5), 103],
      [et('2018-01-02T16:30:00', 5), 110],
      [et('2018-01-02T17:30:00', 5), 120],
      [et('2018-03-13T09:29:59.999', 4), 90],
      [et('2018-03-13T09:30:00', 4), 95],
    ];
    // one catalog per day: heartbeats cover an import's whole span
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: repoRoot });
    const cats: Record<string, string> = {};
    for (const date of ['2018-01-02', '2018-03-13']) {
      const day = rows.filter(([ts]) => new Date(Number(ts)).toISOString().startsWith(date));
      const f = write(`taq-sessions-${date}`, 'XXX_trades_raw.csv', ['ts_utc_ms,time_new_york,EX,SYMBOL,COND,SIZE,PRICE,CORR', ...day.map(([ts, px]) => `${ts},x,N,XXX,,100,${px},0`)].join('\n') + '\n');
      cats[date] = path.join(tmp, `sessions-cat-${date}`);
      expect(run('datasets', 'import', '--format', 'taq', '--in', f, '--out', cats[date]).status).toBe(0);
    }
    const vwaps = async (date: string, session: string) => {
      const out = path.join(tmp, `sessions-${date}-${session}.parquet`);
      const args = ['replay', '--catalog', cats[date], '--date', date, '--kinds', 'trade', '--out', out];
      const r = run(...args, ...(session === 'utc' ? [] : ['--factor-param', `vwap_session.session=${session}`]));
      expect(r.stderr).toBe('');
      const t = await readFactorTable(out);
      const col = session === 'utc' ? 'vwap_session' : `vwap_session_${session.replace(/-/g, '_')}`;
      return t.seq.map((_, i) => i).filter((i) => t.source[i] === 'trade').map((i) => t.values[col][i]);
    };
    // UTC dates: the first four trades are on 2018-01-02 UTC, 17:30 EST is 22:30 UTC the same day
    expect(await vwaps('2018-01-02', 'utc')).toEqual([100, 100.5, 304 / 3, 414 / 4, 534 / 5]);
    expect(await vwaps('2018-01-02', 'us-equity')).toEqual([null, 101, 102, 102, 102]);
    expect(await vwaps('2018-01-02', 'fx-ny17')).toEqual([100, 100.5, 304 / 3, 414 / 4, 120]);
    expect(await vwaps('2018-03-13', 'us-equity')).toEqual([null, 95]);
    expect(await vwaps('2018-03-13', 'utc')).toEqual([90, 92.5]);
  });
});
