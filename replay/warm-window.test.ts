/**
 * Multi-date replays and warm windows (issue 16, item 6), on two synthetic days of one catalog:
 *
 * - a `--from/--to` window warms up from 00:00 and writes exactly the full-day replay's rows of
 *   that window, every factor value included; a cold window (`warmup: 0n`) does not;
 * - a replay of two dates folds them as one stream: its first-day rows are the single-day
 *   replay's, its second-day rows those of the second day warmed up over the first (`--warmup
 *   1d`), and they differ from a cold second day where state carried;
 * - splitting one stream into dates (and files) does not change the rows (property);
 * - stop/resume works across the warm-up and the date boundary; bad ranges are usage errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../core/events.ts';
import { generateDays, heartbeats } from '../testing/multi-day.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';
import { dateStartNs, writeCatalog, writeCatalogFile, type CatalogRow } from './catalog.ts';
import { readFactorTable, type FactorTable } from './read-factor-table.ts';
import { planSelection, runReplay, type ReplayOptions } from './run-replay.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const D1 = '2024-03-14';
const D2 = '2024-03-15';
const at = (date: string, hhmm: string) => BigInt(Date.parse(`${date}T${hhmm}:00Z`)) * 1_000_000n;
let dir: string;
let cat: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-warm-'));
  cat = join(dir, 'cat');
  await generateDays(cat, [D1, D2], 4000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const replay = (out: string, o: Partial<ReplayOptions>) => runReplay({ catalog: cat, out: join(dir, out), progress: false, ...o } as ReplayOptions);

/** The rows of `t` for which `keep(tsRecv)` holds, as comparable plain rows (every column). */
function rows(t: FactorTable, keep: (ts: bigint) => boolean = () => true): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < t.seq.length; i++) {
    if (!keep(t.tsRecv[i])) continue;
    out.push([t.symbol[i], t.source[i], t.seq[i], t.tsEvent[i], t.tsRecv[i], ...Object.keys(t.values).map((c) => t.values[c][i])]);
  }
  return out;
}

const cellsDiffering = (a: unknown[][], b: unknown[][]) => a.reduce<number>((n, r, i) => n + r.filter((v, j) => !Object.is(v, b[i]?.[j])).length, 0);

describe('a --from/--to window warms up', () => {
  const inWindow = (ts: bigint) => ts >= at(D2, '14:30') && ts < at(D2, '15:00');

  it('by default from 00:00: its rows are the full-day replay rows of the window, every value', async () => {
    await replay('full-d2.parquet', { date: D2 });
    const s = await replay('warm.parquet', { date: D2, from: '14:30', to: '15:00' });
    const full = rows(await readFactorTable(join(dir, 'full-d2.parquet')), inWindow);
    const warm = await readFactorTable(join(dir, 'warm.parquet'));
    expect(full.length).toBeGreaterThan(500);
    // the factors the issue names are live in the window, so equality is not of nulls
    for (const c of ['vwap_session', 'rsi_14']) expect(warm.values[c].filter((v) => v !== null).length, c).toBeGreaterThan(100);
    expect(rows(warm)).toEqual(full);
    expect(s.warmupEvents).toBeGreaterThan(5000);
    expect(s.windowStartNs).toBe(at(D2, '14:30'));
    expect(s.warmupFromNs).toBe(at(D2, '00:00'));
    expect(JSON.parse(warm.metadata.get('lockstep') ?? '{}')).toMatchObject({ date: D2, warmup: { window: '2024-03-15T14:30:00.000000000Z' } });
  });

  it('a cold window (warmup 0) starts from empty state: vwap_session and rsi_14 differ', async () => {
    const s = await replay('cold.parquet', { date: D2, from: '14:30', to: '15:00', warmup: 0n });
    expect(s.warmupEvents).toBe(0);
    expect(s.windowStartNs).toBeUndefined();
    const full = await readFactorTable(join(dir, 'full-d2.parquet'));
    const cold = await readFactorTable(join(dir, 'cold.parquet'));
    const idx = (t: FactorTable) => new Map(t.seq.map((q, i) => [`${t.symbol[i]}/${t.source[i]}/${q}/${t.tsRecv[i]}`, i]));
    const fi = idx(full);
    let differ = { vwap_session: 0, rsi_14: 0 };
    cold.seq.forEach((_, i) => {
      const j = fi.get(`${cold.symbol[i]}/${cold.source[i]}/${cold.seq[i]}/${cold.tsRecv[i]}`);
      if (j === undefined) return;
      for (const c of ['vwap_session', 'rsi_14'] as const) if (!Object.is(cold.values[c][i], full.values[c][j])) differ = { ...differ, [c]: differ[c] + 1 };
    });
    expect(differ.vwap_session).toBeGreaterThan(100);
    expect(differ.rsi_14).toBeGreaterThan(10);
  });

  it('--warmup 90m starts 90 minutes before --from and still writes only the window', async () => {
    const s = await replay('w90.parquet', { date: D2, from: '14:30', to: '15:00', warmup: 90n * 60n * 1_000_000_000n });
    expect(s.warmupFromNs).toBe(at(D2, '13:00'));
    expect(s.warmupEvents).toBeGreaterThan(0);
    const t = await readFactorTable(join(dir, 'w90.parquet'));
    expect(t.tsRecv.every(inWindow)).toBe(true);
  });
});

describe('a replay of several dates is one stream', () => {
  const beforeD2 = (ts: bigint) => ts < dateStartNs(D2);
  let range: FactorTable;

  it('its first-day rows are the single-day replay, its second-day rows the second day warmed up over the first', async () => {
    const s = await replay('range.parquet', { dates: [`${D1}..${D2}`] });
    expect(s.dates).toEqual([D1, D2]);
    await replay('d1.parquet', { date: D1 });
    const w = await replay('d2-warm.parquet', { date: D2, warmup: 86_400_000_000_000n });
    expect(w.warmupDates).toEqual([D1]);
    range = await readFactorTable(join(dir, 'range.parquet'));
    expect(JSON.parse(range.metadata.get('lockstep') ?? '{}')).toMatchObject({ dates: [D1, D2] });
    const first = rows(range, beforeD2);
    expect(first).toEqual(rows(await readFactorTable(join(dir, 'd1.parquet'))));
    expect(rows(range, (ts) => !beforeD2(ts))).toEqual(rows(await readFactorTable(join(dir, 'd2-warm.parquet'))));
  });

  it('differs from a cold second day only where state carries', async () => {
    const cold = rows(await readFactorTable(join(dir, 'full-d2.parquet')));
    const warm = rows(range, (ts) => !beforeD2(ts));
    expect(warm.length).toBeGreaterThan(1000);
    // the same trades and quotes are applied; values differ where a factor's state spans the night
    const key = (r: unknown[]) => r.slice(0, 5).join('/');
    const coldBy = new Map(cold.map((r) => [key(r), r]));
    const market = warm.filter((r) => r[1] === 'trade' || r[1] === 'quote');
    // each day numbers its events from 1 again: none of the second day is taken for a duplicate
    expect(new Set(market.map(key))).toEqual(new Set(cold.filter((r) => r[1] === 'trade' || r[1] === 'quote').map(key)));
    const differing = market.filter((r) => cellsDiffering([r], [coldBy.get(key(r))!]) > 0).length;
    expect(differing).toBeGreaterThan(0);
    // vwap_session is a UTC-day session: from the second day's first trade on it is the cold day's;
    // before it, quote rows still show the first day's VWAP (state carried), where cold has none
    const col = 5 + Object.keys(range.values).indexOf('vwap_session');
    const trades = market.filter((r) => r[1] === 'trade');
    expect(trades.every((r) => Object.is(r[col], coldBy.get(key(r))![col]))).toBe(true);
    expect(market.some((r) => r[1] === 'quote' && r[col] !== null && coldBy.get(key(r))![col] === null)).toBe(true);
  });

  it('a stop inside the first day resumed across the date boundary equals the uninterrupted run', async () => {
    const o = { dates: [D1, D2], from: '14:00', to: '15:00' };
    const whole = await replay('rw.parquet', o);
    expect(whole.warmupEvents).toBeGreaterThan(0);
    const cp = join(dir, 'range-cp.json');
    const stop = 1000; // inside the warm-up (before 14:00 of the first date)
    const a = await replay('r1.parquet', { ...o, stopAfter: stop, checkpoint: cp });
    const b = await replay('r2.parquet', { ...o, resume: cp });
    expect(a.rows).toBe(0);
    const t = await readFactorTable(join(dir, 'r2.parquet'));
    expect(rows(t)).toEqual(rows(await readFactorTable(join(dir, 'rw.parquet'))));
    expect(b.warmupEvents + a.warmupEvents).toBe(whole.warmupEvents);
    // the checkpoint is bound to its selection: another warm-up is refused
    await expect(replay('r3.parquet', { ...o, warmup: 0n, resume: cp })).rejects.toThrow(/another selection/);
  });
});

describe('splitting one stream into dates does not change the rows (property)', () => {
  it('the same events across midnight, read as two dates or as one, give the same rows', async () => {
    const base = fixtureRows(1200).filter((r) => r.kind !== 'heartbeat');
    const market = base.filter((r) => r.kind !== 'fundamental').sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : a.tsRecv > b.tsRecv ? 1 : 0));
    const midnight = dateStartNs(FIXTURE_DATE) + 86_400_000_000_000n;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 300, max: market.length - 10 }), async (k) => {
        run++;
        // move the day so that midnight falls just before event k; heartbeats follow the new times
        const delta = midnight - market[k].tsRecv;
        const moved: CatalogRow[] = base.map((r) => (r.kind === 'fundamental' ? r : { ...r, tsEvent: r.tsEvent + delta, tsRecv: r.tsRecv + delta }));
        const all = [...moved, ...heartbeats(market[0].tsRecv + delta, market[market.length - 1].tsRecv + delta)];
        const split = join(dir, `split-${run}`);
        const one = join(dir, `one-${run}`);
        writeCatalog(split, all, { partBy: run % 2 ? 'symbol' : 'single' });
        // every event under the first date: one file per kind, as if the catalog had no midnight
        writeCatalog(one, all.filter((r) => r.kind === 'fundamental'));
        for (const kind of KINDS.filter((x) => x !== 'fundamental')) {
          const of = all.filter((r) => r.kind === kind);
          if (of.length > 0) writeCatalogFile(one, kind, FIXTURE_DATE, 'all', of);
        }
        const next = '2024-03-16';
        const a = await runReplay({ catalog: split, dates: [FIXTURE_DATE, next], out: join(dir, `split-${run}.parquet`), progress: false });
        const b = await runReplay({ catalog: one, date: FIXTURE_DATE, out: join(dir, `one-${run}.parquet`), progress: false });
        expect(a.rows).toBeGreaterThan(1200);
        expect(rows(await readFactorTable(join(dir, `split-${run}.parquet`)))).toEqual(rows(await readFactorTable(join(dir, `one-${run}.parquet`))));
      }),
      { numRuns: 3, seed: 16 },
    );
  });
});

describe('point in time across a list of dates with gaps', () => {
  it('a date left out of the list still gives its fundamentals (as a replay of the later date would)', async () => {
    const root = join(dir, 'gaps');
    const day = (d: string) => dateStartNs(d) + 14n * 3_600_000_000_000n;
    const trade = (d: string, seq: bigint): CatalogRow => ({ kind: 'trade', tsEvent: day(d), tsRecv: day(d) + 1000n, symbol: 'AAA', seq, price: 10, size: 1, side: 1 });
    const fundamental: CatalogRow = { kind: 'fundamental', tsEvent: day('2024-03-12'), tsRecv: day('2024-03-12'), symbol: 'AAA', seq: 1n, fiscalYear: 2023, fiscalPeriod: 'Q4', eps: 1.5, epsTtm: 5.5, bookValuePerShare: 20, sharesOutstanding: 1e9 };
    writeCatalog(root, [trade('2024-03-11', 1n), trade('2024-03-12', 1n), trade('2024-03-13', 1n), fundamental]);
    const plan = await planSelection({ catalog: root, dates: ['2024-03-11', '2024-03-13'] });
    expect(plan.dates).toEqual(['2024-03-11', '2024-03-13']);
    expect(plan.files.map((f) => `${f.kind}/${f.date}`).sort()).toEqual(['fundamental/2024-03-12', 'trade/2024-03-11', 'trade/2024-03-13']);
    // a warm-up of 2 days before 12:00 on the 13th reads the 11th (from 12:00) and the 12th
    const warm = await planSelection({ catalog: root, date: '2024-03-13', from: '12:00', warmup: 2n * 86_400_000_000_000n });
    expect(warm.warmupDates).toEqual(['2024-03-11', '2024-03-12']);
    expect(warm.windowStartNs).toBe(at('2024-03-13', '12:00'));
  });
});

describe('bad dates and warm-ups are usage errors', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', cat, '--out', join(dir, 'x.parquet'), ...args], { encoding: 'utf8', cwd: ROOT });
  const expectUsage = (r: ReturnType<typeof cli>, re: RegExp) => {
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it('--date and --dates together, or neither', () => {
    expectUsage(cli('--date', D1, '--dates', D2), /either --date or --dates, not both/);
    expectUsage(cli(), /--date YYYY-MM-DD, or --dates A\.\.B/);
  });

  it('a listed date the catalog lacks is named; a range with no catalog date is refused', () => {
    expectUsage(cli('--dates', `${D1},2024-03-16,2024-03-18`), /no data for 2024-03-16, 2024-03-18; dates present: .*2024-03-14, 2024-03-15/);
    expectUsage(cli('--dates', '2024-04-01..2024-04-30'), /--dates 2024-04-01\.\.2024-04-30: catalog .* has no dates in that range/);
    expectUsage(cli('--dates', `${D2}..${D1}`), /2024-03-15 is after 2024-03-14/);
  });

  it('a warm-up that is not a duration, or that contradicts --cold', () => {
    expectUsage(cli('--date', D2, '--warmup', '2 days'), /--warmup "2 days": use a duration such as 90m/);
    expectUsage(cli('--date', D2, '--warmup', '2h', '--cold'), /--cold and --warmup 2h contradict/);
  });
});
