// Sessions chosen per symbol from the catalog (issue 21 item 14), through the real CLI: the TAQ
// importer records XXX as a US equity in sessions.json, and `vwap_session.session=auto` then
// starts the session VWAP at the 09:30 New York open instead of UTC midnight.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('sessions on the real TAQ sample', 'equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz');
const run = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: repoRoot });
// 2018-01-02 is EST: the 09:30 New York open is 14:30 UTC
const OPEN = BigInt(Date.parse('2018-01-02T14:30:00Z')) * 1_000_000n;
const DAY0 = BigInt(Date.parse('2018-01-02T00:00:00Z')) * 1_000_000n;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-sessions-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!REAL.present)('sessions on the real TAQ sample', () => {
  it('the importer records XXX as us-equity; vwap_session_auto at the 09:30 open holds no extended-hours trade, vwap_session holds the 115 pre-market trades', async () => {
    const cat = path.join(tmp, 'taq');
    const imp = run('datasets', 'import', '--format', 'taq', '--in', REAL.path('equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz'), '--out', cat);
    expect(imp.status, imp.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(cat, 'sessions.json'), 'utf8'))).toEqual({ sessions: { XXX: 'us-equity' } });
    const out = path.join(tmp, 'taq.parquet');
    const r = run('replay', '--catalog', cat, '--date', '2018-01-02', '--kinds', 'trade', '--to', '14:40', '--factor-param', 'vwap_session.session=auto', '--factor-param', 'ma_5m.session=auto', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const t = await readFactorTable(out);
    // the default set, for comparison: vwap_session is the UTC day's
    const outUtc = path.join(tmp, 'taq-utc.parquet');
    expect(run('replay', '--catalog', cat, '--date', '2018-01-02', '--kinds', 'trade', '--to', '14:40', '--out', outUtc).status).toBe(0);
    const u = await readFactorTable(outUtc);
    const trades = t.seq.map((_, i) => i).filter((i) => t.source[i] === 'trade');
    const pre = trades.filter((i) => t.tsEvent[i] >= DAY0 && t.tsEvent[i] < OPEN);
    expect(pre.length).toBe(115);
    // before the open the session VWAP is null and no session bar exists
    expect(pre.every((i) => t.values.vwap_session_auto[i] === null && t.values.ma_5m_auto[i] === null)).toBe(true);
    // at each trade of the first minute of the session: the VWAP of the session's trades only
    const first = trades.filter((i) => t.tsEvent[i] >= OPEN && t.tsEvent[i] < OPEN + 60_000_000_000n);
    expect(first.length).toBeGreaterThan(5);
    const prices = readTrades(REAL.path('equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz'));
    for (const i of first) {
      // seq numbers the trades in file order from 1 (corrections left out), as the CSV lists them
      const upTo = prices.slice(0, Number(t.seq[i]));
      expect(upTo.at(-1)!.t).toBe(t.tsEvent[i]);
      const held = upTo.filter((p) => p.t >= OPEN);
      const want = held.reduce((a, p) => a + p.price * p.size, 0) / held.reduce((a, p) => a + p.size, 0);
      expect(t.values.vwap_session_auto[i]).toBeCloseTo(want, 9);
      // the UTC-day VWAP mixes in the 115 pre-market trades (same rows: same events, same order)
      const all = upTo.filter((p) => p.t >= DAY0);
      expect(u.seq[i]).toBe(t.seq[i]);
      expect(u.values.vwap_session[i]).toBeCloseTo(all.reduce((a, p) => a + p.price * p.size, 0) / all.reduce((a, p) => a + p.size, 0), 9);
      expect(Math.abs(u.values.vwap_session[i]! - want)).toBeGreaterThan(1e-4);
    }
    // the first session bar closes at 09:31, so the 5-minute average of session bars needs until 09:35
    const early = trades.filter((i) => t.tsEvent[i] >= OPEN && t.tsEvent[i] < OPEN + 5n * 60_000_000_000n);
    expect(early.every((i) => t.values.ma_5m_auto[i] === null)).toBe(true);
    // (ma_5m became ma_5m_auto; the continuous ma_20m is warm long before, from pre-market bars)
    expect(early.every((i) => t.values.ma_20m[i] !== null && u.values.ma_5m[i] !== null)).toBe(true);
  });
});

/** The trades of the TAQ CSV (gzip), corrections left out as the importer does. */
function readTrades(file: string): { t: bigint; price: number; size: number }[] {
  const { gunzipSync } = require('node:zlib') as typeof import('node:zlib');
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
  const head = lines[0].split(',');
  const [ts, size, price, corr] = ['ts_utc_ms', 'SIZE', 'PRICE', 'CORR'].map((c) => head.indexOf(c));
  return lines.slice(1).map((l) => l.split(',')).filter((c) => c[corr] === '0').map((c) => ({ t: BigInt(c[ts]) * 1_000_000n, price: Number(c[price]), size: Number(c[size]) }));
}

describe('sessions.json', () => {
  it('one symbol, one market: importing a symbol under another session is refused in one line, exit 2', () => {
    const cat = path.join(tmp, 'clash');
    const csv = path.join(tmp, 'XXX_trades_raw.csv');
    writeFileSync(csv, 'ts_utc_ms,time_new_york,EX,SYMBOL,COND,SIZE,PRICE,CORR\n1514903400000,x,N,XXX,,100,10,0\n');
    expect(run('datasets', 'import', '--format', 'taq', '--in', csv, '--out', cat).status).toBe(0);
    writeFileSync(path.join(cat, 'sessions.json'), '{"sessions":{"XXX":"fx-ny17"}}\n');
    const r = run('datasets', 'import', '--format', 'taq', '--in', csv, '--out', cat);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${path.join(cat, 'sessions.json')}: symbol XXX is recorded with session fx-ny17, this import would make it us-equity: import it into another catalog, or edit the file`);
  });

  it('a malformed sessions.json stops a replay with one line naming the file, symbol and value', () => {
    const cat = path.join(tmp, 'clash');
    writeFileSync(path.join(cat, 'sessions.json'), '{"sessions":{"XXX":"nyse"}}\n');
    const r = run('replay', '--catalog', cat, '--date', '2018-01-02', '--out', path.join(tmp, 'x.parquet'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${path.join(cat, 'sessions.json')}: symbol "XXX" has session "nyse"; sessions are utc, us-equity, fx-ny17`);
  });
});
