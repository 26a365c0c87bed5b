/**
 * `lockstep parity reference`: an independent implementation of the moving averages and the
 * session VWAP, written as DuckDB SQL window functions over the catalog's Parquet files, that
 * writes a reference table keyed like the replay's output (symbol, source, seq, ts_event, ts_recv).
 * `lockstep parity diff` then holds the replay to it, the way a researcher's SQL or pandas code is
 * held to production's. Nothing here imports core/: the SQL restates the documented rules.
 *
 * Rules restated (core/kernels/minute-bars.ts, core/factors/bar-factor.ts, moving-average.ts,
 * vwap.ts, core/fold.ts, core/sequence-guard.ts):
 * - Selection: every file of the date (all kinds), plus the fundamentals and corporate actions of earlier
 *   dates; the
 *   optional HH:MM window (on ts_recv) applies to same-date files only, as in `lockstep replay`:
 *   the events before `from` are read (the warm-up from 00:00) and only the rows inside the window
 *   are written; with `cold` (replay's `--warmup 0`) the events before `from` are not read.
 * - Order: by ts_recv, then source priority (heartbeat 0, corporate_action 1, fundamental 2,
 *   news 3, book 4, quote 5, trade 6), then seq. DuckDB reads TIMESTAMP(NANOS, UTC) as microseconds, which would tie
 *   events inside one microsecond, so the exact nanosecond ts_recv / ts_event are read with
 *   hyparquet (another independent Parquet reader) and joined by (file, row number).
 * - Deliveries: per (symbol, kind), and for heartbeats, the first delivery of a seq is applied if
 *   its seq is above every seq delivered before it, or above the stream's first seq (a late one);
 *   repeats are dropped. The fold's guard remembers at most 256 missing seqs, so a late event more
 *   than 256 below the stream's maximum is refused here rather than guessed.
 * - Rows: one per applied non-heartbeat event. A symbol sees the heartbeats after its first
 *   event (a heartbeat at the same ts_recv sorts before it); a heartbeat gives the symbol a row
 *   only when one of these columns changed, which for a moving average means the heartbeat closed
 *   bar k and k = N or close(k) != close(k - N) (the window's contents changed).
 * - Bars: minute = floor(ts_event / 60 s). The clock is the running max minute over the symbol's
 *   trades and visible heartbeats. A trade whose minute is below the clock when it arrives is late
 *   and sets no close. Close = the last on-time trade of the minute; a bar is closed once the clock
 *   is past its minute. ma_N at a row = avg of the last N closed bars' closes (null below N).
 * - VWAP: sum(price * size) / sum(size) over the symbol's applied trades so far in the session;
 *   the session is the running max UTC day of ts_event (a late trade from an earlier day counts in
 *   the current session). Rows of other kinds carry the last trade's value.
 *
 * Numerics: the same float64 inputs summed in another order and with other rounding (DuckDB's
 * windowed avg; its Kahan `fsum` for the VWAP against the replay's Neumaier sums), so values may
 * differ by a few ulps: diff with a relative tolerance (rel:1e-12; measured maxima are in the README).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';

export const REFERENCE_COLUMNS = ['ma_5m', 'ma_20m', 'ma_60m', 'vwap_session'] as const;
export type MaColumn = 'ma_5m' | 'ma_20m' | 'ma_60m';
const DEFAULT_WINDOWS: Record<MaColumn, number> = { ma_5m: 5, ma_20m: 20, ma_60m: 60 };
const PRIORITY: Record<string, number> = { heartbeat: 0, corporate_action: 1, fundamental: 2, news: 3, book: 4, quote: 5, trade: 6 };
/** Point-in-time kinds whose files of earlier dates are read too (as core's REFERENCE_KINDS). */
const REFERENCE = ['fundamental', 'corporate_action'];
/** The fold's sequence guard remembers this many missing seqs (core/sequence-guard.ts). */
const GUARD_MEMORY = 256;
const MINUTE_NS = 60_000_000_000n;
const DAY_NS = 86_400_000_000_000n;

export interface ReferenceOptions {
  catalog: string;
  date: string;
  /** .parquet or .csv */
  out: string;
  symbols?: readonly string[];
  /** HH:MM UTC window on ts_recv (from inclusive, to exclusive), same-date files only. */
  from?: string;
  to?: string;
  /** Start the window from empty state, as `lockstep replay --warmup 0` does (default: warm from 00:00, as the replay). */
  cold?: boolean;
  /** Bars per moving average (defaults 5/20/60); another value makes a deliberately wrong reference. */
  windows?: Partial<Record<MaColumn, number>>;
  /** Progress lines (each SQL step and its time). */
  log?: (m: string) => void;
}

export interface ReferenceSummary {
  out: string;
  rows: number;
  heartbeatRows: number;
  symbols: number;
  files: number;
  trades: number;
  bars: number;
  /** Applied trades whose minute was already closed (they set no close). */
  lateForBar: number;
  duplicatesDropped: number;
  wallMs: number;
}

interface SelectedFile {
  id: number;
  path: string;
  kind: string;
  sameDay: boolean;
}

function dateStart(date: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new UsageError(`--date ${JSON.stringify(date)} must be YYYY-MM-DD`);
  return BigInt(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) * 1_000_000n;
}

function hhmm(date: string, v: string, flag: string): bigint {
  const m = /^(\d{2}):(\d{2})$/.exec(v);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new UsageError(`${flag} ${JSON.stringify(v)} must be HH:MM (UTC)`);
  return dateStart(date) + BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000_000n;
}

/** CATALOG/<kind>/<date>/*.parquet for the date, plus fundamentals and corporate actions of earlier dates. */
function selectFiles(catalog: string, date: string): SelectedFile[] {
  const files: SelectedFile[] = [];
  for (const kind of Object.keys(PRIORITY)) {
    const kindDir = join(catalog, kind);
    if (!existsSync(kindDir)) continue;
    for (const d of readdirSync(kindDir).sort()) {
      if (!(d === date || (REFERENCE.includes(kind) && /^\d{4}-\d{2}-\d{2}$/.test(d) && d < date))) continue;
      for (const f of readdirSync(join(kindDir, d)).sort()) {
        if (f.endsWith('.parquet')) files.push({ id: files.length, path: resolve(kindDir, d, f), kind, sameDay: d === date });
      }
    }
  }
  if (!files.some((f) => f.sameDay)) throw new UsageError(`catalog ${catalog} has no files for ${date}`);
  return files;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Exact nanosecond ts_recv / ts_event of every row of a file, through hyparquet. */
async function exactTimes(path: string): Promise<[bigint, bigint][]> {
  const { parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const b = readFileSync(path);
  const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  let rows: [bigint, bigint][] = [];
  await parquetRead({
    file,
    compressors,
    columns: ['ts_recv', 'ts_event'],
    rowFormat: 'array',
    parsers: { timestampFromNanoseconds: (n: bigint) => n } as never,
    onComplete: (r: unknown) => {
      rows = r as [bigint, bigint][];
    },
  });
  return rows;
}

async function loadDuckDb(): Promise<typeof import('@duckdb/node-api')> {
  try {
    return await import('@duckdb/node-api');
  } catch {
    throw new UsageError('parity reference needs DuckDB and hyparquet (dev dependencies): run npm install (without --omit=dev)');
  }
}

/** floor(x / d) for BIGINT x of either sign (DuckDB's % keeps the dividend's sign). */
const floorDiv = (x: string, d: bigint) => `((${x} - (((${x} % ${d}) + ${d}) % ${d})) // ${d})`;

export async function writeReference(opts: ReferenceOptions): Promise<ReferenceSummary> {
  const started = performance.now();
  const windows = { ...DEFAULT_WINDOWS, ...opts.windows };
  for (const [c, n] of Object.entries(windows)) if (!Number.isInteger(n) || n < 1) throw new UsageError(`window for ${c} must be an integer >= 1 (got ${n})`);
  const format = opts.out.endsWith('.csv') ? 'csv' : opts.out.endsWith('.parquet') ? 'parquet' : null;
  if (!format) throw new UsageError(`--out ${opts.out}: use a .parquet or .csv file name`);
  const files = selectFiles(opts.catalog, opts.date);
  const fromNs = opts.from ? hhmm(opts.date, opts.from, '--from') : null;
  const toNs = opts.to ? hhmm(opts.date, opts.to, '--to') : null;

  const { DuckDBInstance } = await loadDuckDb();
  const db = await DuckDBInstance.create();
  const con = await db.connect();
  const log = opts.log ?? (() => {});
  const run = async (sql: string) => {
    const t0 = performance.now();
    await con.run(sql);
    log(`  ${((performance.now() - t0) / 1000).toFixed(2)} s  ${sql.trim().split('\n')[0].slice(0, 70)}`);
  };
  const one = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjects()[0] as Record<string, unknown>;
  try {
    await run('create table files (file_id integer, path varchar, kind varchar, prio integer, same_day boolean)');
    await run('create table ts (file_id integer, "row" bigint, ts_recv bigint, ts_event bigint)');
    const fa = await con.createAppender('files');
    for (const f of files) {
      fa.appendInteger(f.id);
      fa.appendVarchar(f.path);
      fa.appendVarchar(f.kind);
      fa.appendInteger(PRIORITY[f.kind]);
      fa.appendBoolean(f.sameDay);
      fa.endRow();
    }
    fa.closeSync();
    const ta = await con.createAppender('ts');
    for (const f of files) {
      const times = await exactTimes(f.path);
      for (let i = 0; i < times.length; i++) {
        ta.appendInteger(f.id);
        ta.appendBigInt(BigInt(i));
        ta.appendBigInt(times[i][0]);
        ta.appendBigInt(times[i][1]);
        ta.endRow();
      }
    }
    ta.closeSync();
    log(`  ${((performance.now() - started) / 1000).toFixed(2)} s  exact times of ${files.length} files read (hyparquet)`);

    // trades with their price and size, every other kind with its keys only
    const read = (fs: SelectedFile[], cols: string) =>
      `select f.file_id, f.kind, f.prio, f.same_day, coalesce(r.symbol, '') as symbol, r.seq, r.file_row_number as "row", ${cols}
       from read_parquet([${fs.map((f) => sqlString(f.path)).join(', ')}], union_by_name = true, filename = true, file_row_number = true) r
       join files f on f.path = r.filename`;
    const trades = files.filter((f) => f.kind === 'trade');
    const others = files.filter((f) => f.kind !== 'trade');
    const parts = [others.length ? read(others, 'null::double as price, null::double as size') : null, trades.length ? read(trades, 'r.price, r.size') : null];
    await run(`create table raw as ${parts.filter(Boolean).join(' union all ')}`);
    const counts = await one(`select (select count(*) from raw) as raw, (select count(*) from ts) as ts,
      (select count(*) from raw join ts using (file_id, "row")) as joined`);
    if (counts.raw !== counts.ts || counts.raw !== counts.joined) {
      throw new Error(`DuckDB and hyparquet disagree on the rows of the selected files (${counts.raw} vs ${counts.ts}, ${counts.joined} joined)`);
    }
    // warm (the replay's default): read the date from 00:00, cut the rows at `from` below
    const readFrom = opts.cold ? fromNs : null;
    const window = [readFrom !== null ? `t.ts_recv >= ${readFrom}` : null, toNs !== null ? `t.ts_recv < ${toNs}` : null].filter(Boolean).join(' and ');
    const symbolFilter = opts.symbols?.length ? `(e.kind = 'heartbeat' or e.symbol in (${opts.symbols.map(sqlString).join(', ')}))` : 'true';
    await run(`create table ev as
      select e.*, t.ts_recv, t.ts_event from raw e join ts t using (file_id, "row")
      where ${symbolFilter} and (not e.same_day ${window ? `or (${window})` : 'or true'})`);

    // the sequence guard, per (kind, symbol) stream in arrival order
    await run(`create table g as select *,
        row_number() over (partition by kind, symbol, seq order by ts_recv, file_id, "row") as nth,
        max(seq) over (partition by kind, symbol order by ts_recv, seq, file_id, "row" rows between unbounded preceding and 1 preceding) as max_before,
        first_value(seq) over (partition by kind, symbol order by ts_recv, seq, file_id, "row") as first_seq
      from ev`);
    const far = await one(`select count(*) as n, min(symbol || '/' || kind || '/' || seq) as example from g
      where nth = 1 and seq < max_before and seq > first_seq and max_before - seq > ${GUARD_MEMORY}`);
    if (Number(far.n) > 0) {
      throw new UsageError(`${far.n} late deliveries arrive more than ${GUARD_MEMORY} seqs behind their stream (e.g. ${far.example}): beyond the sequence guard's memory, the reference cannot restate it`);
    }
    await run(`create table a as select * exclude (nth, max_before, first_seq) from g
      where nth = 1 and (max_before is null or seq > max_before or seq > first_seq)`);

    // each symbol's own events and the heartbeats it sees, in order
    await run(`create table firsts as select symbol, min(ts_recv) as first_recv from a where kind <> 'heartbeat' group by symbol`);
    await run(`create table c as
      with s as (
        select symbol, kind as source, seq, ts_recv, ts_event, prio, file_id, "row", price, size from a where kind <> 'heartbeat'
        union all
        select y.symbol, 'heartbeat', h.seq, h.ts_recv, h.ts_event, 0, h.file_id, h."row", null, null
        from a h join firsts y on h.ts_recv > y.first_recv where h.kind = 'heartbeat')
      select *, row_number() over (partition by symbol order by ts_recv, prio, seq, file_id, "row") as ord,
             ${floorDiv('ts_event', MINUTE_NS)} as minute, ${floorDiv('ts_event', DAY_NS)} as day
      from s`);
    await run(`create table ck as select *,
        max(case when source in ('trade', 'heartbeat') then minute end) over (partition by symbol order by ord rows between unbounded preceding and 1 preceding) as clock_before,
        max(case when source in ('trade', 'heartbeat') then minute end) over (partition by symbol order by ord rows unbounded preceding) as clock_after
      from c`);

    // 1-minute bars and the moving averages over their closes
    await run(`create table bars as select symbol, minute, arg_max(price, ord) as close from ck
      where source = 'trade' and (clock_before is null or minute >= clock_before) group by symbol, minute`);
    const ma = (Object.keys(DEFAULT_WINDOWS) as MaColumn[]).map((col) => {
      const n = windows[col];
      return {
        value: `case when k >= ${n} then avg(close) over (partition by symbol order by minute rows between ${n - 1} preceding and current row) end as ${col}`,
        changed: `(k = ${n} or (k > ${n} and close <> lag(close, ${n}) over (partition by symbol order by minute)))`,
      };
    });
    await run(`create table ma as select symbol, minute, k, ${ma.map((m) => m.value).join(', ')}, ${ma.map((m) => m.changed).join(' or ')} as changed
      from (select *, row_number() over (partition by symbol order by minute) as k from bars)`);

    // session VWAP at each trade
    await run(`create table vw as select symbol, ord,
        case when fsum(size) over w > 0 then fsum(price * size) over w / fsum(size) over w end as vwap
      from (select *, max(day) over (partition by symbol order by ord rows unbounded preceding) as session from ck where source = 'trade')
      window w as (partition by symbol, session order by ord rows unbounded preceding)`);

    // No NULL on the left of the ASOF inequality: on these tables DuckDB 1.5.6 matched a row whose
    // clock was still NULL (no trade or heartbeat yet, e.g. earlier-dated fundamentals) to the
    // symbol's LAST bar (a small input on the nested-loop plan does not), so NULL becomes the minimum.
    await run(`create table r as
      with x as (
        select ck.*, m.k, m.ma_5m, m.ma_20m, m.ma_60m, m.changed, v.vwap
        from ck
        asof left join ma m on ck.symbol = m.symbol and coalesce(ck.clock_after, -9223372036854775807) > m.minute
        asof left join vw v on ck.symbol = v.symbol and ck.ord >= v.ord)
      select *, lag(k) over (partition by symbol order by ord) as k_before from x`);
    const written = !opts.cold && fromNs !== null ? ` and ts_recv >= ${fromNs}` : '';
    await run(`create table out_rows as select * from r
      where (source <> 'heartbeat' or (k is distinct from k_before and changed))${written}`);

    const ts = (c: string) => (format === 'parquet' ? `make_timestamp_ns(${c}) as ${c}` : c);
    await run(`copy (
        select symbol, source, seq, ${ts('ts_event')}, ${ts('ts_recv')}, ma_5m, ma_20m, ma_60m, vwap as vwap_session
        from out_rows order by ts_recv, prio, symbol, seq, file_id, "row")
      to ${sqlString(resolve(opts.out))} (format ${format})`);

    const s = await one(`select (select count(*) from out_rows) as rows, (select count(*) from out_rows where source = 'heartbeat') as hb,
        (select count(distinct symbol) from out_rows) as symbols, (select count(*) from ck where source = 'trade') as trades,
        (select count(*) from bars) as bars,
        (select count(*) from ck where source = 'trade' and minute < clock_before) as late,
        (select count(*) from ev) - (select count(*) from a) as dups`);
    return {
      out: opts.out,
      rows: Number(s.rows),
      heartbeatRows: Number(s.hb),
      symbols: Number(s.symbols),
      files: files.length,
      trades: Number(s.trades),
      bars: Number(s.bars),
      lateForBar: Number(s.late),
      duplicatesDropped: Number(s.dups),
      wallMs: performance.now() - started,
    };
  } catch (e) {
    rmSync(opts.out, { force: true });
    throw e;
  } finally {
    con.closeSync();
  }
}

export function formatReferenceSummary(s: ReferenceSummary): string {
  return `reference (DuckDB SQL): ${s.rows.toLocaleString('en-US')} rows (${s.heartbeatRows.toLocaleString('en-US')} heartbeat), ${s.symbols} symbol${s.symbols === 1 ? '' : 's'}, ${s.trades.toLocaleString('en-US')} trades, ${s.bars.toLocaleString('en-US')} bars, ${s.lateForBar} trades late for their bar, ${s.duplicatesDropped} repeated deliveries dropped; ${s.files} files in ${(s.wallMs / 1000).toFixed(1)} s -> ${s.out}`;
}
