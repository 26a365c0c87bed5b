/**
 * Corporate actions on the real AAPL fundamentals (shared/data/real/fundamentals_sec): the SEC
 * importer with the splits file (examples/splits.csv: 7:1 ex 2014-06-09, 4:1 ex 2020-08-31) and
 * without it (splits derived from the jumps in shares outstanding), then PER/PBR through the real
 * replayer with synthetic AAPL trades at real closing prices.
 *
 * Before corporate actions: PER fell from 37.9 to 9.8 across 2020-08-31 with no announcement, the
 * derived Q4 EPS of FY2014 and FY2020 mixed share bases (negative), so PER was null for most of
 * 2015 and 2021, and FY2014 Q2's 861,745 shares gave a book value per share of 139,460.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareEvents, type CorporateActionEvent, type FundamentalEvent, type Kind, type MarketEvent, type TradeEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { pbr, per } from '../core/factors/valuation.ts';
import { importSec } from './import-sec.ts';
import type { ImportReport } from './import-report.ts';
import { listCatalog, writeCatalog } from '../replay/catalog.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { realData } from '../testing/real-data.ts';

const REAL = realData('corporate actions on the real AAPL fundamentals', 'fundamentals_sec/AAPL_quarterly_fundamentals_sec.csv');
const secCsv = REAL.path('fundamentals_sec', 'AAPL_quarterly_fundamentals_sec.csv');
const splitsCsv = resolve(new URL('..', import.meta.url).pathname, 'examples', 'splits.csv');
const MS = 1_000_000n;
const iso = (s: string) => BigInt(Date.parse(s)) * MS;

async function readKind<E extends MarketEvent>(catalog: string, kind: Kind): Promise<E[]> {
  const out: E[] = [];
  for (const f of listCatalog(catalog).filter((x) => x.kind === kind)) {
    const src = await openParquet(f.path);
    for (let g = 0; g < src.numRowGroups; g++) out.push(...(decodeEvents(kind, src.readRowGroup(g), f.path, 0) as E[]));
  }
  return out;
}

const trade = (at: string, price: number, seq: number): TradeEvent => ({ kind: 'trade', tsEvent: iso(at), tsRecv: iso(at), symbol: 'AAPL', seq: BigInt(seq), price, size: 100, side: 0 });

/** PER and PBR of the trades, folding the catalog's reference events with them in core's order. */
function foldValuation(reference: readonly MarketEvent[], trades: readonly TradeEvent[]): Map<bigint, [number | null, number | null]> {
  const set = createFactorSet([per, pbr]);
  const st = initFold();
  const out = new Map<bigint, [number | null, number | null]>();
  for (const ev of [...reference, ...trades].sort(compareEvents)) {
    applyEvent(set, st, ev, (e, _s, v) => {
      if (e.kind === 'trade') out.set(e.seq, [v[0], v[1]]);
    });
  }
  return out;
}

/** One trade on the 15th of every month of `year` at 15:00 UTC (price irrelevant to null-ness). */
function monthly(year: number, price: number): TradeEvent[] {
  return Array.from({ length: 12 }, (_, m) => trade(`${year}-${String(m + 1).padStart(2, '0')}-15T15:00:00Z`, price, m + 1));
}

describe.skipIf(!REAL.present)('corporate actions on the real AAPL fundamentals', () => {
  let dir: string;
  const catalogs: Record<'file' | 'derived' | 'late', string> = { file: '', derived: '', late: '' };
  const reports = {} as Record<'file' | 'derived' | 'late', ImportReport>;
  const funds = {} as Record<'file' | 'derived' | 'late', FundamentalEvent[]>;
  const actions = {} as Record<'file' | 'derived' | 'late', CorporateActionEvent[]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-corpact-aapl-'));
    // a late record of the 2020 split: announced after its ex date (and after 2020-08-31)
    const late = join(dir, 'late-splits.csv');
    writeFileSync(late, 'symbol,ex_date,ratio,announced\nAAPL,2014-06-09,7:1,2014-04-23T16:30:00\nAAPL,2020-08-31,4,2020-09-15T09:00:00\n');
    for (const [name, splits] of [['file', splitsCsv], ['derived', undefined], ['late', late]] as const) {
      catalogs[name] = join(dir, name);
      reports[name] = await importSec(secCsv, catalogs[name], { splits });
      funds[name] = await readKind<FundamentalEvent>(catalogs[name], 'fundamental');
      actions[name] = await readKind<CorporateActionEvent>(catalogs[name], 'corporate_action');
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const row = (name: 'file' | 'derived' | 'late', fy: number, fp: string) => {
    const r = funds[name].filter((f) => f.fiscalYear === fy && f.fiscalPeriod === fp);
    expect(r, `${fy} ${fp}`).toHaveLength(1);
    return r[0];
  };

  it('writes the splits as corporate_action rows: the file\'s with their announcements, derived ones from the row that shows them', () => {
    expect(reports.file.events).toEqual({ fundamental: 67, corporate_action: 2 });
    expect(actions.file.map((a) => [a.action, a.ratio, a.tsRecv, a.tsEx])).toEqual([
      ['split', 7, iso('2014-04-23T16:30:00-04:00'), iso('2014-06-09T00:00:00-04:00')],
      ['split', 4, iso('2020-07-30T16:30:00-04:00'), iso('2020-08-31T00:00:00-04:00')],
    ]);
    // without the file: known from the first filing that shows the new share count, in effect just
    // after the previous filing (still on the old basis)
    expect(actions.derived.map((a) => [a.ratio, a.tsRecv, a.tsEx])).toEqual([
      [7, iso('2014-07-23T16:00:00-04:00'), iso('2014-04-24T16:00:00-04:00') + 1n],
      [4, iso('2020-10-29T16:30:32-04:00'), iso('2020-07-30T18:55:04-04:00') + 1n],
    ]);
    expect(reports.derived.notes.some((n) => /AAPL: split 4:1 derived from shares outstanding 4,283,939,000 \(FY2020 Q3\) -> 16,976,763,000 \(FY2020 FY/.test(n))).toBe(true);
  });

  it('corrects the implausible FY2014 Q2 row (861,745 shares, book value per share 139,460) and reports it', () => {
    for (const name of ['file', 'derived'] as const) {
      const [c, ...more] = reports[name].corrected ?? [];
      expect(more).toEqual([]);
      expect(c).toMatchObject({ file: secCsv, line: 21, field: 'shares_outstanding', value: '861745', corrected: '861745000' });
      expect(c.reason).toMatch(/FY2014 Q2: 861,745 shares is 1\/1,000 of the previous row's 892,447,000 \(FY2014 Q1\): a units error/);
      const q2 = row(name, 2014, 'Q2');
      expect([q2.sharesOutstanding, q2.bookValuePerShare]).toEqual([861_745_000, 139.4600491]);
    }
    // no book value per share anywhere near 139,460 is served
    expect(Math.max(...funds.file.map((f) => f.bookValuePerShare).filter((v) => v === v))).toBeLessThan(200);
  });

  it('derives Q4 EPS on one share basis: FY minus Q1..Q3 restated by the split', () => {
    for (const name of ['file', 'derived'] as const) {
      // FY2014 6.45 - (14.50 + 11.62) / 7 - 1.28 (Q3 already post-split); was 6.45 - 14.5 - 11.62 - 1.28 = -20.95
      expect(row(name, 2014, 'Q4').eps).toBe(1.4385714);
      // FY2020 3.28 - (4.99 + 2.55 + 2.58) / 4; was 3.28 - 10.12 = -6.84
      expect(row(name, 2020, 'Q4').eps).toBe(0.75);
      expect(row(name, 2020, 'Q4').epsTtm).toBe(3.28);
    }
    // point in time: FY2020 Q3 (2020-07-30 18:55 ET) is before the ex date: its ttm stays on the old basis
    expect(row('file', 2020, 'Q3').epsTtm).toBe(13.19);
  });

  it('PER is defined for most of 2015 and 2021 (every month, with or without the splits file)', () => {
    for (const name of ['file', 'derived'] as const) {
      const reference = [...funds[name], ...actions[name]];
      for (const [year, price] of [[2015, 120], [2021, 140]] as const) {
        const v = foldValuation(reference, monthly(year, price));
        const defined = [...v.values()].filter(([p]) => p !== null).length;
        console.log(`[corporate-actions-aapl] ${name}: PER defined in ${defined} of 12 months of ${year}`);
        expect(defined, `${name} ${year}`).toBe(12);
      }
    }
  });

  it('PER is continuous across the 2020-08-31 ex date (replays of 08-28 and 08-31 at the real closes)', async () => {
    const per28 = new Map<string, number | null>();
    for (const name of ['file', 'late'] as const) {
      const catalog = catalogs[name];
      // AAPL closed at 499.23 on Friday 2020-08-28 and at 129.04 on Monday 2020-08-31 (split-adjusted trading)
      writeCatalog(catalog, [trade('2020-08-28T19:59:00Z', 499.23, 1), trade('2020-08-31T19:59:00Z', 129.04, 1)]);
      for (const date of ['2020-08-28', '2020-08-31']) {
        const out = join(dir, `${name}-${date}.parquet`);
        await runReplay({ catalog, date, out, factors: [per, pbr], progress: false });
        const t = await readFactorTable(out);
        const i = t.source.lastIndexOf('trade');
        per28.set(`${name} ${date}`, t.values.per[i]);
      }
    }
    const before = per28.get('file 2020-08-28')!;
    const after = per28.get('file 2020-08-31')!;
    console.log(`[corporate-actions-aapl] PER 2020-08-28 ${before.toFixed(2)} -> 2020-08-31 ${after.toFixed(2)} (price 499.23 -> 129.04 after the 4:1 split)`);
    expect(before).toBeCloseTo(499.23 / 13.19, 12);
    expect(after).toBeCloseTo(129.04 / (13.19 / 4), 12);
    // the move is the price's own (129.04 * 4 / 499.23 = 1.034), not the 4x of the share basis
    expect(after / before).toBeCloseTo((129.04 * 4) / 499.23, 12);
    // a split announced after t does not affect t: the late record (announced 2020-09-15) leaves 08-31 unadjusted
    expect(per28.get('late 2020-08-28')).toBe(before);
    expect(per28.get('late 2020-08-31')).toBeCloseTo(129.04 / 13.19, 12);
  }, 60_000);

  it('a split announced after t does not affect t, and counts from its announcement on', () => {
    const reference = [...funds.late, ...actions.late];
    const v = foldValuation(reference, [trade('2020-09-14T19:59:00Z', 115.36, 1), trade('2020-09-15T19:59:00Z', 115.54, 2)]);
    expect(v.get(1n)![0]).toBe(115.36 / 13.19);
    expect(v.get(2n)![0]).toBe(115.54 / (13.19 / 4));
    // the importer too: with the split announced 2020-09-15, the FY2020 row (2020-10-29) restates by it
    expect(row('late', 2020, 'Q4').eps).toBe(0.75);
  });

  it('without the splits file, a derived split is right from the filing that shows it on (prices traded since are not restated)', () => {
    const reference = [...funds.derived, ...actions.derived];
    // AAPL closed at 115.32 on 2020-10-29 (post-split); the FY2020 filing came at 16:30:32 ET
    const v = foldValuation(reference, [trade('2020-10-29T19:59:00Z', 115.32, 1), trade('2020-10-30T19:59:00Z', 108.86, 2)]);
    // before the filing nothing knows of the split: post-split price over pre-split EPS (the gap --splits closes)
    expect(v.get(1n)![0]).toBe(115.32 / 13.19);
    expect(v.get(2n)![0]).toBe(108.86 / 3.28);
    // and at the filing's own row: the last price (traded after ts_ex) is not divided again
    const set = createFactorSet([per]);
    const st = initFold();
    let atFiling: number | null = null;
    const q4 = row('derived', 2020, 'Q4');
    for (const ev of [...reference, trade('2020-10-29T19:59:00Z', 115.32, 1)].sort(compareEvents)) {
      applyEvent(set, st, ev, (e, _s, vals) => {
        if (e.kind === 'fundamental' && e.seq === q4.seq) atFiling = vals[0];
      });
    }
    expect(atFiling).toBe(115.32 / 3.28);
  });
});
