/**
 * `lockstep pnl` through the real CLI: on a small generated day (hand-made fills: duplicates
 * reported and applied once, limits breached once, the same bytes on a rerun; bad files are one
 * line and exit 2) and on the real TAQ day (XXX, 2018-01-03) with a hand-made fills file whose
 * realized PnL is known to the cent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrainingSet } from '../features/table-io.ts';
import { realData } from '../testing/real-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const DATE = '2024-03-15';
const FILLS = `fill_id,account,strategy,symbol,side,qty,price,fee,order_id,ts_event,ts_recv
f1,acct1,mm,SYM000,buy,100,207.60,1.00,o1,2024-03-15T14:00:00Z,2024-03-15T14:00:00.000100Z
f2,acct1,mm,SYM000,sell,40,207.70,0.50,o2,2024-03-15T15:00:00Z,2024-03-15T15:00:00.000100Z
f3,acct2,arb,SYM000,sell,10,207.00,0,,1710518400000000000,1710518400000000000
f2,acct1,mm,SYM000,sell,40,207.70,0.50,o2,2024-03-15T15:00:00Z,2024-03-15T15:00:00.000100Z
`;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pnl-cli-'));
  const r = cli('datasets', 'generate', '--date', DATE, '--symbols', '1', '--out', join(dir, 'cat'));
  if (r.status !== 0) throw new Error(`datasets generate: ${r.stderr}`);
  writeFileSync(join(dir, 'fills.csv'), FILLS);
  writeFileSync(join(dir, 'limits.json'), JSON.stringify({ default_symbol: { max_position: 80 }, actions: { position: 'reduce-only' } }));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep pnl (generated day)', () => {
  it('writes the series and the breaches; a duplicate fill id is reported naming both lines and applied once; same bytes on a rerun', async () => {
    const args = ['pnl', '--catalog', join(dir, 'cat'), '--date', DATE, '--fills', join(dir, 'fills.csv'), '--limits', join(dir, 'limits.json'), '--out', join(dir, 'p.parquet')];
    const r = cli(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('fill_id "f2" at line 5 repeats line 3; applied once');
    expect(r.stdout).toMatch(/4 fills \(3 applied, 1 duplicates, 0 rejected\)/);
    expect(r.stdout).toContain('position symbol SYM000 (units): 100 > 80 → reduce-only');
    const series = await readTrainingSet(join(dir, 'p.parquet'));
    expect(series.columns).toEqual(['ts', 'account', 'strategy', 'positions', 'realized', 'unrealized', 'fees', 'day_pnl', 'hwm', 'drawdown', 'gross', 'net', 'concentration', 'var', 'var_missing']);
    // every book and the total, each second; realized of acct1/mm after f2 is 40 × 0.10 = 4.00 exactly
    const last = series.rows.filter((x) => x.account === 'acct1').at(-1)!;
    expect(last.realized).toBe(4);
    expect(last.fees).toBe(1.5);
    expect((last.day_pnl as number)).toBeCloseTo((last.realized as number) + (last.unrealized as number) - 1.5, 9);
    const ts = series.rows.map((x) => x.ts as bigint);
    for (let i = 1; i < ts.length; i++) expect(ts[i] >= ts[i - 1]).toBe(true);
    expect(ts.every((t) => t % 1_000_000_000n === 0n)).toBe(true);
    const breaches = await readTrainingSet(join(dir, 'p.breaches.parquet'));
    expect(breaches.rows.map((x) => [x.event, x.limit, x.scope, x.value, x.threshold, x.action])[0]).toEqual(['breach', 'position', 'symbol SYM000 (units)', 100, 80, 'reduce-only']);
    const bytes = readFileSync(join(dir, 'p.parquet'));
    expect(cli(...args.slice(0, -1), join(dir, 'p2.parquet')).status).toBe(0);
    expect(readFileSync(join(dir, 'p2.parquet')).equals(bytes)).toBe(true);
  }, 120_000);

  it('bad input is one line naming the file, line, field and value, exit 2', () => {
    const bad = (name: string, text: string, ...extra: string[]) => {
      writeFileSync(join(dir, name), text);
      const r = cli('pnl', '--catalog', join(dir, 'cat'), '--date', DATE, '--fills', join(dir, name), '--out', join(dir, 'x.parquet'), ...extra);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      return r.stderr.trim();
    };
    const head = 'fill_id,account,strategy,symbol,side,qty,price,fee,ts_event,ts_recv\n';
    expect(bad('a.csv', `${head}x,a,s,SYM000,buy,0,10.00,0,1,1\n`)).toMatch(/a\.csv, line 2, field qty: must be > 0 .*\(value "0"\)/);
    expect(bad('b.csv', `${head}x,a,s,SYM000,buy,5,100.005,0,1,1\n`)).toMatch(/b\.csv, line 2, field price: 100\.005 is not a multiple of 0\.01/);
    expect(bad('c.csv', `${head}x,a,s,SYM000,hold,5,10,0,1,1\n`)).toMatch(/c\.csv, line 2, field side: must be buy\/sell or 1\/-1 \(value "hold"\)/);
    expect(bad('d.csv', `${head}x,a,s,SYM000,buy,5,-1,0,1,1\n`)).toMatch(/d\.csv, line 2, field price: must be > 0/);
    writeFileSync(join(dir, 'i.json'), JSON.stringify({ instruments: { SYM000: { tick: 0.01, lot: 1 } } }));
    expect(bad('e.csv', `${head}x,a,s,NOPE,buy,5,10,0,1,1\n`, '--instruments', join(dir, 'i.json'))).toMatch(/e\.csv, line 2, field symbol: unknown symbol .*\(value "NOPE"\)/);
    writeFileSync(join(dir, 'l.json'), JSON.stringify({ max_gross: 5 }));
    expect(bad('f.csv', `${head}x,a,s,SYM000,buy,5,10,0,1,1\n`, '--limits', join(dir, 'l.json'))).toMatch(/l\.json, field max_gross: unknown key/);
  });
});

const REAL = realData('lockstep pnl on the real TAQ day (XXX 2018-01-03)', 'equity_taq_highfrequency');

describe.skipIf(!REAL.present)('lockstep pnl (real TAQ day, XXX 2018-01-03)', () => {
  it('known realized PnL to the cent, the identity day PnL = realized + unrealized − fees, marks at the mid (half ticks kept)', async () => {
    const cat = join(dir, 'taq');
    expect(cli('datasets', 'import', '--format', 'taq', '--in', REAL.path('equity_taq_highfrequency'), '--out', cat).status).toBe(0);
    // 15:00 and 17:00 UTC: buy 300 @ 157.00, buy 100 @ 158.00 (average 157.25), sell 200 @ 157.75 (+100.00), fees 0.40
    writeFileSync(join(dir, 'taq-fills.csv'), `fill_id,account,strategy,symbol,side,qty,price,fee,ts_event,ts_recv
t1,acct1,momo,XXX,1,300,157.00,0.30,2018-01-03T15:00:00Z,2018-01-03T15:00:00.000001Z
t2,acct1,momo,XXX,1,100,158.00,0.05,2018-01-03T16:00:00Z,2018-01-03T16:00:00.000001Z
t3,acct1,momo,XXX,-1,200,157.75,0.05,2018-01-03T17:00:00Z,2018-01-03T17:00:00.000001Z
`);
    const r = cli('pnl', '--catalog', cat, '--date', '2018-01-03', '--fills', join(dir, 'taq-fills.csv'), '--out', join(dir, 'taq.parquet'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { applied: number; books: { account: string; realized: number; unrealized: number; fees: number; dayPnl: number; net: number; positions: number; var: number }[] };
    expect(s.applied).toBe(3);
    const b = s.books.find((x) => x.account === 'acct1')!;
    expect(b.realized).toBe(100);
    expect(b.fees).toBe(0.4);
    expect(b.positions).toBe(1);
    // 200 left at 157.25: unrealized = net − 200 × 157.25; the mark is a mid, on a half-cent grid
    const mark = b.net / 200;
    expect(Math.round(mark * 200) / 200).toBe(mark);
    expect(b.unrealized).toBeCloseTo(b.net - 31_450, 9);
    expect(b.dayPnl).toBeCloseTo(b.realized + b.unrealized - b.fees, 9);
    expect(b.var).toBeGreaterThan(0);
    const series = await readTrainingSet(join(dir, 'taq.parquet'));
    expect(series.rows.length).toBeGreaterThan(3600);
  }, 180_000);
});
