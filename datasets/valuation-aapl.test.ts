/**
 * Point-in-time valuation on real fundamentals: PER and PBR of AAPL around real SEC earnings
 * announcements (shared/data/real/fundamentals_sec), joined by the replayer with synthetic AAPL
 * trades at and around the announcement instants.
 *
 * The fundamentals are the importer's (announce_accepted_et of the 8-K, US Eastern → UTC), so the
 * instants are real: FY2019 Q4 at 2019-10-30 16:30:40 EDT (20:30:40 UTC) and FY2020 Q1 at
 * 2020-01-28 16:30:40 EST (21:30:40 UTC; the other side of a DST change). A replay of the
 * announcement date reads every earlier date's fundamentals too, so the OLD quarter is in force
 * before the instant; at the instant the fundamentals row sorts before a trade of the same
 * ts_recv, so a trade exactly at the instant already sees the NEW quarter.
 *
 * Before AAPL's first fundamentals row (FY2009 Q3, filed 2009-07-22, 16:00 ET by the importer's
 * filed_date rule) both ratios are null; after it PBR is defined and PER stays null, because that
 * row's trailing-12-month EPS is unknown (NaN: the three quarters before it are not in the data).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FundamentalEvent, TradeEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { heartbeats } from './heartbeats.ts';
import { importSec } from './import-sec.ts';
import { listCatalog, writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = resolve(new URL('..', import.meta.url).pathname);
const REAL = realData('PER / PBR of AAPL around real SEC announcements (point in time)', 'fundamentals_sec/AAPL_quarterly_fundamentals_sec.csv');
const secCsv = REAL.path('fundamentals_sec', 'AAPL_quarterly_fundamentals_sec.csv');

const NS_PER_MS = 1_000_000n;
const MINUTE_NS = 60_000_000_000n;
const HOUR_NS = 60n * MINUTE_NS;

/** Epoch ns of an ISO instant with an explicit offset (whole ms). */
function isoNs(iso: string): bigint {
  return BigInt(Date.parse(iso)) * NS_PER_MS;
}

/**
 * One trade per minute from an hour before `at` to an hour after (one lands exactly on `at`),
 * plus one 1 ns before `at`. Prices are distinct cent values so each row's expected ratio is its own.
 */
function tradesAround(at: bigint, base: number): TradeEvent[] {
  const times: bigint[] = [];
  for (let k = -60n; k <= 60n; k++) times.push(at + k * MINUTE_NS);
  times.push(at - 1n);
  times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return times.map((t, i) => ({ kind: 'trade', tsEvent: t, tsRecv: t, symbol: 'AAPL', seq: BigInt(i + 1), price: (base + i) / 100, size: 100, side: 0 }));
}

function pick(names: readonly string[]): AnyFactor[] {
  return names.map((n) => {
    const f = DEFAULT_FACTORS.find((x) => x.name === n);
    if (!f) throw new Error(`no default factor named ${n}`);
    return f;
  });
}

interface Case {
  label: string;
  date: string;
  /** The announcement instant as the CSV gives it (US Eastern with its offset). */
  at: bigint;
  base: number;
  /** Fiscal period of the quarter in force before and from the instant. */
  old: [number, string];
  new: [number, string];
}

const CASES: Case[] = [
  { label: 'FY2019 Q4 (10-K year), 2019-10-30 16:30:40 EDT', date: '2019-10-30', at: isoNs('2019-10-30T16:30:40-04:00'), base: 24300, old: [2019, 'Q3'], new: [2019, 'Q4'] },
  { label: 'FY2020 Q1, 2020-01-28 16:30:40 EST', date: '2020-01-28', at: isoNs('2020-01-28T16:30:40-05:00'), base: 31700, old: [2019, 'Q4'], new: [2020, 'Q1'] },
];
/** AAPL's first fundamentals row: FY2009 Q3, filed_date 2009-07-22, no time → 16:00 EDT. */
const FIRST = { date: '2009-07-22', at: isoNs('2009-07-22T16:00:00-04:00'), base: 16000 };

describe.skipIf(!REAL.present)('PER / PBR of AAPL around real SEC announcements (point in time)', () => {
  let dir: string;
  let catalog: string;
  let fundamentals: FundamentalEvent[];
  const factors = pick(['per', 'pbr']);
  const tables = new Map<string, FactorTable>();
  const trades = new Map<string, TradeEvent[]>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-valuation-aapl-'));
    catalog = join(dir, 'catalog');
    await importSec(secCsv, catalog);
    fundamentals = [];
    for (const f of listCatalog(catalog).filter((x) => x.kind === 'fundamental')) {
      const src = await openParquet(f.path);
      for (let g = 0; g < src.numRowGroups; g++) fundamentals.push(...(decodeEvents('fundamental', src.readRowGroup(g), f.path, 0) as FundamentalEvent[]));
    }
    const rows: CatalogRow[] = [];
    for (const c of [...CASES, FIRST]) {
      const t = tradesAround(c.at, c.base);
      trades.set(c.date, t);
      rows.push(...t, ...heartbeats(c.at - HOUR_NS - 1_000_000_000n, c.at + HOUR_NS + 1_000_000_000n));
    }
    writeCatalog(catalog, rows);
    for (const c of [...CASES, FIRST]) {
      const out = join(dir, `${c.date}.parquet`);
      await runReplay({ catalog, date: c.date, out, factors, progress: false });
      tables.set(c.date, await readFactorTable(out));
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const quarter = (fy: number, fp: string) => {
    const q = fundamentals.filter((f) => f.fiscalYear === fy && f.fiscalPeriod === fp);
    expect(q, `one ${fy} ${fp} row`).toHaveLength(1);
    return q[0];
  };

  it('imports the real announcement instants and values', () => {
    const q4 = quarter(2019, 'Q4');
    expect(q4.tsEvent).toBe(CASES[0].at);
    expect(q4.tsEvent).toBe(isoNs('2019-10-30T20:30:40Z'));
    expect([q4.epsTtm, q4.bookValuePerShare]).toEqual([11.89, 20.3653]);
    const q1 = quarter(2020, 'Q1');
    expect(q1.tsEvent).toBe(isoNs('2020-01-28T21:30:40Z'));
    expect(q1.bookValuePerShare).toBe(20.4178);
    const first = fundamentals.reduce((a, b) => (b.tsEvent < a.tsEvent ? b : a));
    expect(first.tsEvent).toBe(FIRST.at);
    expect([first.fiscalYear, first.fiscalPeriod, first.bookValuePerShare]).toEqual([2009, 'Q3', 28.9014]);
    expect(first.epsTtm).toBeNaN();
  });

  for (const c of CASES) {
    it(`${c.label}: old quarter strictly before the instant, new quarter from it on`, () => {
      const t = tables.get(c.date)!;
      const old = quarter(...c.old);
      const neu = quarter(...c.new);
      expect(old.tsEvent).toBeLessThan(c.at);
      expect(neu.tsEvent).toBe(c.at);
      const bySeq = new Map(trades.get(c.date)!.map((x) => [x.seq, x]));
      let before = 0;
      let from = 0;
      for (let i = 0; i < t.seq.length; i++) {
        if (t.source[i] !== 'trade') continue;
        const tr = bySeq.get(t.seq[i])!;
        expect(t.tsEvent[i]).toBe(tr.tsEvent);
        const q = tr.tsEvent < c.at ? old : neu;
        if (tr.tsEvent < c.at) before++;
        else from++;
        expect(t.values.per[i], `per at ${tr.tsEvent - c.at} ns from the instant`).toBe(tr.price / q.epsTtm);
        expect(t.values.pbr[i], `pbr at ${tr.tsEvent - c.at} ns from the instant`).toBe(tr.price / q.bookValuePerShare);
      }
      expect([before, from]).toEqual([61, 61]);
      // the ratios really change at the instant: the quarter's numbers differ
      expect(old.epsTtm).not.toBe(neu.epsTtm);
      expect(old.bookValuePerShare).not.toBe(neu.bookValuePerShare);

      // every fundamentals row public by the end of the date was replayed (point in time), and the
      // announcement's own row already carries the new quarter with the last trade's price
      const dayEnd = isoNs(`${c.date}T23:59:59.999Z`);
      const fRows = t.source.flatMap((s, i) => (s === 'fundamental' ? [i] : []));
      expect(fRows.length).toBe(fundamentals.filter((f) => f.tsRecv <= dayEnd).length);
      const at = fRows.find((i) => t.tsEvent[i] === c.at)!;
      const lastBefore = trades.get(c.date)!.find((x) => x.tsEvent === c.at - 1n)!;
      expect(t.values.per[at]).toBe(lastBefore.price / neu.epsTtm);
      expect(t.values.pbr[at]).toBe(lastBefore.price / neu.bookValuePerShare);
      for (const i of fRows) if (t.tsEvent[i] < c.at) expect([t.values.per[i], t.values.pbr[i]]).toEqual([null, null]);
      console.log(`[valuation-aapl] ${c.date}: ${before} trades before / ${from} from the instant, ${fRows.length} fundamentals rows; per ${old.fiscalYear} ${old.fiscalPeriod} ttm ${old.epsTtm} -> ${neu.fiscalYear} ${neu.fiscalPeriod} ttm ${neu.epsTtm}, bvps ${old.bookValuePerShare} -> ${neu.bookValuePerShare}`);
    });
  }

  it('before the first fundamentals row everything is null; after it PBR is set and PER stays null (TTM EPS unknown)', () => {
    const t = tables.get(FIRST.date)!;
    const first = fundamentals.reduce((a, b) => (b.tsEvent < a.tsEvent ? b : a));
    let before = 0;
    let after = 0;
    for (let i = 0; i < t.seq.length; i++) {
      if (t.source[i] === 'fundamental') {
        expect(t.tsEvent[i]).toBe(FIRST.at);
        continue;
      }
      expect(t.source[i]).toBe('trade');
      const price = trades.get(FIRST.date)!.find((x) => x.seq === t.seq[i])!.price;
      if (t.tsEvent[i] < FIRST.at) {
        expect([t.values.per[i], t.values.pbr[i]]).toEqual([null, null]);
        before++;
      } else {
        expect(t.values.per[i]).toBeNull();
        expect(t.values.pbr[i]).toBe(price / first.bookValuePerShare);
        after++;
      }
    }
    expect([before, after]).toEqual([61, 61]);
  });
});
