/**
 * Cross-implementation check: the replay's 5/20/60-minute moving averages and session VWAP against
 * DuckDB SQL window functions computed from the same trade Parquet files, on a synthetic day with
 * duplicate and late deliveries.
 *
 * The SQL restates the kernels' rules instead of calling them:
 * - Arrival order of a symbol's trades is the row order of its catalog file (one file per symbol;
 *   files are sorted by ts_recv in exact ns, then seq). DuckDB reads TIMESTAMP(NANOS) as µs, so the
 *   test first proves that ordering by (ts_recv, seq) in DuckDB gives that same order.
 * - Duplicates (same symbol and seq delivered again) keep the first delivery, as the fold's
 *   sequence guard does; the test checks that the fold applied exactly the SQL's trade set.
 * - Bars (core/kernels/minute-bars.ts): minute = floor(ts_event / 60 s). The bar clock is the
 *   running max minute over the symbol's applied trades and every heartbeat delivered after its
 *   first trade (heartbeats sort before trades at the same ts_recv). A trade whose minute is below
 *   the clock when it arrives is late: it never sets a close (its volume goes to the open bar,
 *   which no average here reads). Close = last on-time trade of the minute in arrival order. This
 *   is the kernel's rule exactly, so no minute needs to be excluded.
 * - After any event, the closed bars are those with minute < clock (the bar of the clock minute is
 *   the open one), so every factor-table row of a symbol, trade or heartbeat, is compared with the
 *   SQL moving average of the last bar before its clock: bar closes and the rows between them.
 * - VWAP: Σ price·size / Σ size over the day's applied trades in arrival order, partitioned by the
 *   UTC day of ts_event (the kernel's session; late trades from an earlier day would differ, but
 *   none cross midnight in a 13:30-20:00 UTC session).
 *
 * Tolerance 1e-12 relative: the values are the same sums of the same float64 terms, but in another
 * order and with other rounding (our rolling window keeps a compensated running sum that adds the
 * new close and subtracts the evicted one; DuckDB sums each frame with its segment tree; our VWAP
 * sums are Neumaier-compensated, DuckDB's running window sum is not), so they may differ by a few
 * ulps, never more.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyFactor } from '../core/factor.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { generateDay } from './generate.ts';
import { listCatalog } from '../replay/catalog.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay, type ReplaySummary } from '../replay/run-replay.ts';

const DATE = '2024-03-05';
const MAS = [
  { column: 'ma_5m', n: 5 },
  { column: 'ma_20m', n: 20 },
  { column: 'ma_60m', n: 60 },
] as const;
const TOL = 1e-12;

function pick(names: readonly string[]): AnyFactor[] {
  return names.map((n) => {
    const f = DEFAULT_FACTORS.find((x) => x.name === n);
    if (!f) throw new Error(`no default factor named ${n}`);
    return f;
  });
}

async function rows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

function relDiff(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** Running worst differences over compared cells. */
class DiffStats {
  compared = 0;
  identical = 0;
  maxAbs = 0;
  maxRel = 0;
  add(got: number, want: number): number {
    const rel = relDiff(got, want);
    this.compared++;
    if (Object.is(got, want)) this.identical++;
    this.maxAbs = Math.max(this.maxAbs, Math.abs(got - want));
    this.maxRel = Math.max(this.maxRel, rel);
    return rel;
  }
  toString(): string {
    return `${this.compared} compared, ${this.identical} bit-identical, max abs ${this.maxAbs}, max rel ${this.maxRel}`;
  }
}

describe('moving averages and session VWAP against DuckDB window functions (synthetic day)', () => {
  let dir: string;
  let catalog: string;
  let table: FactorTable;
  let summary: ReplaySummary;
  let con: DuckDBConnection;
  const keyOf = (symbol: string, source: string, seq: bigint) => `${symbol}/${source}/${seq}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-ref-sql-'));
    catalog = join(dir, 'catalog');
    // more duplicate and late deliveries than the default 0.1%, so both rules are exercised
    await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: catalog, duplicateFraction: 0.02, lateFraction: 0.02 });
    const out = join(dir, 'factors.parquet');
    // trades and heartbeats only: the factors read nothing else, and each symbol's state is then
    // created by its first trade, which fixes which heartbeats it sees (see the clock rule)
    summary = await runReplay({ catalog, date: DATE, out, kinds: ['trade'], factors: pick(['ma_5m', 'ma_20m', 'ma_60m', 'vwap_session']), progress: false });
    table = await readFactorTable(out);

    const db = await DuckDBInstance.create();
    con = await db.connect();
    const trades = `${catalog}/trade/${DATE}/*.parquet`;
    const beats = `${catalog}/heartbeat/${DATE}/*.parquet`;
    // every delivery, with its exact arrival rank inside its symbol's file
    await con.run(`create table delivered as
      select symbol, seq, price, size, ts_recv, epoch_us(ts_recv) as r_us, epoch_us(ts_event) // 60000000 as minute,
             epoch_us(ts_event) // 86400000000 as day, file_row_number as ord
      from read_parquet('${trades}', file_row_number = true)`);
    // first delivery of each (symbol, seq)
    await con.run(`create table t as select * from delivered qualify row_number() over (partition by symbol, seq order by ord) = 1`);
    // the symbol's trades and the heartbeats it receives, in arrival order
    await con.run(`create table ev as
      select symbol, 'trade' as source, seq, true as is_trade, r_us, 5 as prio, ord, minute, price from t
      union all
      select s.symbol, 'heartbeat', h.seq, false, epoch_us(h.ts_recv), 0, h.seq, epoch_us(h.ts_event) // 60000000, null
      from read_parquet('${beats}') h
      join (select symbol, min(r_us) as first_us from t group by symbol) s on epoch_us(h.ts_recv) > s.first_us`);
    await con.run(`create table ck as select *,
        max(minute) over (partition by symbol order by r_us, prio, ord rows between unbounded preceding and 1 preceding) as clock_before,
        max(minute) over (partition by symbol order by r_us, prio, ord rows unbounded preceding) as clock_after
      from ev`);
    await con.run(`create table bars as
      select symbol, minute, arg_max(price, ord) as close from ck
      where is_trade and (clock_before is null or minute >= clock_before)
      group by symbol, minute`);
    await con.run(`create table ma as select symbol, minute, close,
        row_number() over (partition by symbol order by minute) as k,
        avg(close) over (partition by symbol order by minute rows between 4 preceding and current row) as ma_5m,
        avg(close) over (partition by symbol order by minute rows between 19 preceding and current row) as ma_20m,
        avg(close) over (partition by symbol order by minute rows between 59 preceding and current row) as ma_60m
      from bars`);
  }, 60_000);
  afterAll(() => {
    con?.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('DuckDB order by (ts_recv, seq) is the exact arrival order, and the fold applied the first deliveries only', async () => {
    const files = listCatalog(catalog).filter((f) => f.kind === 'trade');
    expect(files.map((f) => f.part)).toEqual(['SYM000', 'SYM001', 'SYM002']);
    const [o] = await rows(con, `select count(*) filter (where a <> b) as bad from (
        select row_number() over (partition by symbol order by ts_recv, seq, ord) as a, row_number() over (partition by symbol order by ord) as b from delivered)`);
    expect(o.bad).toBe(0n);
    const [c] = await rows(con, `select (select count(*) from delivered) as delivered, (select count(*) from t) as applied`);
    const sqlKeys = (await rows(con, `select symbol, seq from t order by symbol, seq`)).map((r) => keyOf(String(r.symbol), 'trade', r.seq as bigint));
    const foldKeys = table.symbol.flatMap((s, i) => (table.source[i] === 'trade' ? [keyOf(s, 'trade', table.seq[i])] : [])).sort();
    expect(foldKeys).toEqual([...sqlKeys].sort());
    expect(BigInt(summary.duplicates)).toBe((c.delivered as bigint) - (c.applied as bigint));
    const [late] = await rows(con, `select count(*) filter (where is_trade and minute < clock_before) as bar_late, count(*) filter (where is_trade) as trades from ck`);
    console.log(`[sql-ref] trades delivered ${c.delivered}, applied ${c.applied} (${summary.duplicates} duplicate deliveries dropped, ${summary.late} applied out of sequence); ${late.bar_late} trades late for their bar`);
    expect(summary.late).toBeGreaterThan(0);
    expect(summary.duplicates).toBeGreaterThan(0);
  });

  it('ma_5m / ma_20m / ma_60m equal avg(close) OVER (ROWS n-1 PRECEDING) at every row, within 1e-12 relative', async () => {
    const expected = await rows(con, `select c.symbol, c.source, c.seq, m.k, m.ma_5m, m.ma_20m, m.ma_60m
      from ck c asof left join ma m on c.symbol = m.symbol and c.clock_after > m.minute`);
    const byKey = new Map(expected.map((r) => [keyOf(String(r.symbol), String(r.source), r.seq as bigint), r]));
    const stats = Object.fromEntries(MAS.map((m) => [m.column, new DiffStats()]));
    let rowsCompared = 0;
    let warmupNulls = 0;
    const closes = new Set<string>();
    for (let i = 0; i < table.seq.length; i++) {
      const key = keyOf(table.symbol[i], table.source[i], table.seq[i]);
      const want = byKey.get(key);
      expect(want, `row ${key} has no SQL counterpart`).toBeDefined();
      rowsCompared++;
      const k = want!.k === null ? 0 : Number(want!.k);
      if (k > 0) closes.add(`${table.symbol[i]}/${k}`);
      for (const { column, n } of MAS) {
        const got = table.values[column][i];
        if (k < n) {
          expect(got, `${column} at ${key} (warm-up, ${k} bars closed)`).toBeNull();
          warmupNulls++;
          continue;
        }
        const w = want![column] as number;
        expect(got, `${column} at ${key}`).not.toBeNull();
        const rel = stats[column].add(got!, w);
        expect(rel, `${column} at ${key}: got ${got}, DuckDB ${w}`).toBeLessThanOrEqual(TOL);
      }
    }
    const [b] = await rows(con, `select count(*) as bars from bars`);
    // the heartbeats run to midnight, so every SQL bar, each symbol's last one too, is seen closed
    expect(closes.size).toBe(Number(b.bars));
    console.log(`[sql-ref] ${rowsCompared} factor rows (${table.source.filter((s) => s === 'heartbeat').length} heartbeat), ${b.bars} SQL bars, ${closes.size} seen closed, ${warmupNulls} warm-up nulls; ${MAS.map((m) => `${m.column}: ${stats[m.column]}`).join('; ')}`);
    for (const m of MAS) expect(stats[m.column].compared).toBeGreaterThan(100);
  });

  it('vwap_session equals the running SQL window VWAP at every trade row, within 1e-12 relative', async () => {
    const expected = await rows(con, `select symbol, seq,
        sum(price * size) over w / sum(size) over w as vwap
      from t window w as (partition by symbol, day order by ts_recv, seq rows unbounded preceding)`);
    const byKey = new Map(expected.map((r) => [keyOf(String(r.symbol), 'trade', r.seq as bigint), r.vwap as number]));
    const stats = new DiffStats();
    for (let i = 0; i < table.seq.length; i++) {
      const got = table.values.vwap_session[i];
      if (table.source[i] !== 'trade') {
        continue;
      }
      const key = keyOf(table.symbol[i], 'trade', table.seq[i]);
      const want = byKey.get(key);
      expect(want, key).toBeDefined();
      expect(got, key).not.toBeNull();
      expect(stats.add(got!, want!), `vwap at ${key}: got ${got}, DuckDB ${want}`).toBeLessThanOrEqual(TOL);
    }
    expect(stats.compared).toBe(expected.length);
    console.log(`[sql-ref] vwap_session: ${stats}`);
  });
});
