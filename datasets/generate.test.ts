import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookEvent, FundamentalEvent, Kind, MarketEvent, NewsEvent, QuoteEvent, TradeEvent } from '../core/events.ts';
import { dateStartNs, listCatalog, utcDate } from '../replay/catalog.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { UsageError } from '../core/errors.ts';
import { generateDay, type GenerateOptions, type GenerateResult } from './generate.ts';

const DATE = '2024-03-15';
const DAY_START = dateStartNs(DATE);
const OPEN = DAY_START + 48_600_000_000_000n;
const CLOSE = DAY_START + 72_000_000_000_000n;
const MIN = 60_000_000_000n;

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lockstep-gen-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function hashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listCatalog(root)) out[relative(root, f.path)] = createHash('sha256').update(readFileSync(f.path)).digest('hex');
  return out;
}

interface FileRows {
  kind: Kind;
  date: string;
  rows: MarketEvent[];
}

async function readCatalog(root: string): Promise<FileRows[]> {
  const out: FileRows[] = [];
  for (const f of listCatalog(root)) {
    const src = await openParquet(f.path);
    const rows: MarketEvent[] = [];
    let first = 0;
    for (let g = 0; g < src.numRowGroups; g++) {
      rows.push(...decodeEvents(f.kind, src.readRowGroup(g), f.path, first));
      first += src.rowGroupRows[g];
    }
    out.push({ kind: f.kind, date: f.date, rows });
  }
  return out;
}

/** Rows of one kind per symbol, in file (receive) order. */
function bySymbol<E extends MarketEvent>(files: FileRows[], kind: Kind): Map<string, E[]> {
  const m = new Map<string, E[]>();
  for (const f of files) {
    if (f.kind !== kind) continue;
    for (const r of f.rows) {
      let a = m.get(r.symbol);
      if (!a) m.set(r.symbol, (a = []));
      a.push(r as E);
    }
  }
  return m;
}

/** First delivery of each seq, in seq order. */
function unique<E extends MarketEvent>(rows: E[]): E[] {
  const seen = new Map<bigint, E>();
  for (const r of rows) if (!seen.has(r.seq)) seen.set(r.seq, r);
  return [...seen.values()].sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

const onGrid = (p: number) => Math.round(p * 100) / 100 === p;

describe('generateDay (tiny preset)', () => {
  const base: Omit<GenerateOptions, 'out'> = { date: DATE, symbols: 5, seed: 42, preset: 'tiny' };
  let rootA: string;
  let result: GenerateResult;
  let files: FileRows[];
  let market: { trade: Map<string, TradeEvent[]>; quote: Map<string, QuoteEvent[]>; book: Map<string, BookEvent[]> };

  beforeAll(async () => {
    rootA = tempDir();
    result = await generateDay({ ...base, out: rootA });
    files = await readCatalog(rootA);
    market = { trade: bySymbol(files, 'trade'), quote: bySymbol(files, 'quote'), book: bySymbol(files, 'book') };
  }, 60_000);

  it('is byte-identical for the same arguments and differs for another seed', async () => {
    const rootB = tempDir();
    const again = await generateDay({ ...base, out: rootB });
    expect(hashes(rootB)).toEqual(hashes(rootA));
    expect(again.events).toEqual(result.events);
    const rootC = tempDir();
    await generateDay({ ...base, seed: 43, out: rootC });
    const a = hashes(rootA);
    const c = hashes(rootC);
    const tradeFile = join('trade', DATE, 'SYM000.parquet');
    expect(c[tradeFile]).toBeDefined();
    expect(c[tradeFile]).not.toEqual(a[tradeFile]);
  }, 60_000);

  it('writes the counts it reports, about 10k market events per symbol', () => {
    const counted: Record<string, number> = {};
    for (const f of files) counted[f.kind] = (counted[f.kind] ?? 0) + f.rows.length;
    expect(counted).toEqual(Object.fromEntries(Object.entries(result.events).filter(([, n]) => n > 0)));
    const marketEvents = result.events.trade + result.events.quote + result.events.book;
    expect(marketEvents).toBeGreaterThan(45_000);
    expect(marketEvents).toBeLessThan(55_000);
    expect(result.total).toBe(Object.values(result.events).reduce((a, b) => a + b, 0));
    expect([...market.trade.keys()].sort()).toEqual(['SYM000', 'SYM001', 'SYM002', 'SYM003', 'SYM004']);
  });

  it('numbers each (kind, symbol) contiguously from 1 in event-time order, with ts_recv >= ts_event', () => {
    for (const kind of ['trade', 'quote', 'book'] as const) {
      for (const rows of market[kind].values()) {
        for (const r of rows) expect(r.tsRecv >= r.tsEvent).toBe(true);
        const u = unique(rows as MarketEvent[]);
        u.forEach((r, i) => expect(r.seq).toBe(BigInt(i + 1)));
        for (let i = 1; i < u.length; i++) expect(u[i].tsEvent >= u[i - 1].tsEvent).toBe(true);
      }
    }
  });

  it('quotes are never crossed and prices sit on the cent grid', () => {
    for (const rows of market.quote.values()) {
      for (const q of rows) {
        expect(q.bidPx).toBeLessThan(q.askPx);
        expect(q.bidSz).toBeGreaterThan(0);
        expect(q.askSz).toBeGreaterThan(0);
        expect(onGrid(q.bidPx) && onGrid(q.askPx)).toBe(true);
      }
    }
    for (const rows of market.trade.values()) for (const t of rows) expect(onGrid(t.price)).toBe(true);
  });

  it('trades print at the prevailing quote: buys at the ask, sells at the bid, or strictly inside', () => {
    let inside = 0;
    let total = 0;
    for (const [sym, rows] of market.trade) {
      const quotes = unique(market.quote.get(sym)!);
      let qi = -1;
      for (const t of unique(rows)) {
        while (qi + 1 < quotes.length && quotes[qi + 1].tsEvent < t.tsEvent) qi++;
        expect(qi).toBeGreaterThanOrEqual(0);
        const q = quotes[qi];
        total++;
        if (t.price === q.askPx) expect(t.side).toBe(1);
        else if (t.price === q.bidPx) expect(t.side).toBe(-1);
        else {
          // hidden liquidity fills strictly inside the spread
          expect(t.price).toBeGreaterThan(q.bidPx);
          expect(t.price).toBeLessThan(q.askPx);
          inside++;
        }
      }
    }
    expect(total).toBeGreaterThan(3000);
    expect(inside / total).toBeLessThan(0.1);
  });

  it('the L2 book starts with a snapshot, keeps 10 levels a side, and its best levels equal the latest quote at every last row', () => {
    for (const [sym, rows] of market.book) {
      const book = unique(rows);
      const quotes = unique(market.quote.get(sym)!);
      expect(book.slice(0, 20).every((r) => r.snapshot)).toBe(true);
      expect(book[19].last).toBe(true);
      const bids = new Map<number, number>();
      const asks = new Map<number, number>();
      let qi = -1;
      let checked = 0;
      for (const r of book) {
        const side = r.side === 1 ? bids : asks;
        if (r.size === 0) {
          expect(side.has(r.price)).toBe(true);
          side.delete(r.price);
        } else side.set(r.price, r.size);
        if (!r.last) continue;
        while (qi + 1 < quotes.length && quotes[qi + 1].tsEvent <= r.tsEvent) qi++;
        const q = quotes[qi];
        const bestBid = Math.max(...bids.keys());
        const bestAsk = Math.min(...asks.keys());
        expect(bids.size).toBe(10);
        expect(asks.size).toBe(10);
        expect([bestBid, bids.get(bestBid), bestAsk, asks.get(bestAsk)]).toEqual([q.bidPx, q.bidSz, q.askPx, q.askSz]);
        checked++;
      }
      expect(checked).toBeGreaterThan(1000);
    }
  });

  function eventTimes(symbolFilter?: string): bigint[] {
    const out: bigint[] = [];
    for (const kind of ['trade', 'quote', 'book'] as const) {
      for (const [sym, rows] of market[kind]) if (!symbolFilter || sym === symbolFilter) for (const r of unique(rows as MarketEvent[])) out.push(r.tsEvent);
    }
    return out;
  }
  const countIn = (ts: bigint[], from: bigint, to: bigint) => ts.filter((t) => t >= from && t < to).length;

  it('activity is U-shaped: the first and last 30 minutes are busier than midday', () => {
    const ts = eventTimes();
    const { burst } = result.plan;
    // midday: 30-minute windows between 15:30 and 18:30 that miss the burst; take the busiest
    let midMax = 0;
    for (let w = OPEN + 120n * MIN; w < OPEN + 300n * MIN; w += 30n * MIN) {
      if (burst.endNs > w && burst.startNs < w + 30n * MIN) continue;
      midMax = Math.max(midMax, countIn(ts, w, w + 30n * MIN));
    }
    const midRate = midMax;
    expect(midRate).toBeGreaterThan(0);
    expect(countIn(ts, OPEN, OPEN + 30n * MIN)).toBeGreaterThan(2 * midRate);
    expect(countIn(ts, CLOSE - 30n * MIN, CLOSE + MIN)).toBeGreaterThan(2 * midRate);
  });

  it('has a market-wide burst of activity', () => {
    const ts = eventTimes();
    const { burst } = result.plan;
    const len = burst.endNs - burst.startNs;
    const before = countIn(ts, burst.startNs - 10n * len, burst.startNs) / 10;
    expect(countIn(ts, burst.startNs, burst.endNs)).toBeGreaterThan(3 * before);
  });

  it('the halted symbol has no trades, quotes or book updates during the halt; others trade on', () => {
    const { halt } = result.plan;
    expect(halt.endNs - halt.startNs).toBeGreaterThanOrEqual(4n * MIN);
    expect(countIn(eventTimes(halt.symbol), halt.startNs, halt.endNs)).toBe(0);
    expect(countIn(eventTimes(halt.symbol), halt.endNs, halt.endNs + 30n * MIN)).toBeGreaterThan(0);
    const other = ['SYM000', 'SYM001', 'SYM002', 'SYM003', 'SYM004'].find((s) => s !== halt.symbol)!;
    expect(countIn(eventTimes(other), halt.startNs, halt.endNs)).toBeGreaterThan(0);
  });

  it('one symbol gaps by a few percent at the planned jump', () => {
    const { jump } = result.plan;
    const quotes = unique(market.quote.get(jump.symbol)!);
    const i = quotes.findIndex((q) => q.tsEvent > jump.atNs);
    const mid = (q: QuoteEvent) => (q.bidPx + q.askPx) / 2;
    const move = mid(quotes[i]) / mid(quotes[i - 1]) - 1;
    expect(Math.sign(move)).toBe(Math.sign(jump.fraction));
    expect(Math.abs(move)).toBeGreaterThan(0.015);
    expect(Math.abs(move)).toBeLessThan(0.06);
  });

  it('re-delivers about 0.1% of events: same seq and content, later ts_recv', () => {
    let rows = 0;
    let dups = 0;
    for (const kind of ['trade', 'quote', 'book'] as const) {
      for (const list of market[kind].values()) {
        const first = new Map<bigint, MarketEvent>();
        for (const r of list as MarketEvent[]) {
          rows++;
          const f = first.get(r.seq);
          if (!f) {
            first.set(r.seq, r);
            continue;
          }
          dups++;
          expect(r.tsRecv > f.tsRecv).toBe(true);
          expect({ ...r, tsRecv: 0n }).toEqual({ ...f, tsRecv: 0n });
        }
      }
    }
    expect(dups).toBe(result.duplicates);
    expect(dups / rows).toBeGreaterThan(0.0002);
    expect(dups / rows).toBeLessThan(0.005);
  });

  it('delivers some events late: after an event of the same source with a higher seq', () => {
    let late = 0;
    let rows = 0;
    for (const kind of ['trade', 'quote', 'book'] as const) {
      for (const list of market[kind].values()) {
        let max = 0n;
        const seen = new Set<bigint>();
        for (const r of list as MarketEvent[]) {
          rows++;
          if (r.seq < max && !seen.has(r.seq)) late++;
          seen.add(r.seq);
          if (r.seq > max) max = r.seq;
        }
      }
    }
    expect(late).toBeGreaterThan(0);
    expect(late / rows).toBeLessThan(0.01);
  });

  it('writes the previous 4 quarters on past dates and announcements today, pre-open and after the close', () => {
    const funds = bySymbol<FundamentalEvent>(files, 'fundamental');
    for (const f of files) if (f.kind === 'fundamental') for (const r of f.rows) expect(utcDate(r.tsRecv)).toBe(f.date);
    expect(funds.size).toBe(5);
    let today = 0;
    for (const rows of funds.values()) {
      const sorted = unique(rows);
      const past = sorted.filter((r) => r.tsEvent < DAY_START);
      expect(past.length).toBe(4);
      for (const r of sorted) {
        expect(r.fiscalPeriod).toMatch(/^Q[1-4]$/);
        expect(r.eps).not.toBeNaN();
        expect(r.bookValuePerShare).toBeGreaterThan(0);
        expect(r.sharesOutstanding).toBeGreaterThan(1e6);
      }
      // epsTtm is the sum of the last four quarters
      for (let i = 3; i < sorted.length; i++) {
        const sum = sorted.slice(i - 3, i + 1).reduce((s, r) => s + Math.round(r.eps * 100), 0);
        expect(Math.round(sorted[i].epsTtm * 100)).toBe(sum);
      }
      // consecutive fiscal quarters
      for (let i = 1; i < sorted.length; i++) {
        const idx = (r: FundamentalEvent) => r.fiscalYear * 4 + Number(r.fiscalPeriod[1]);
        expect(idx(sorted[i]) - idx(sorted[i - 1])).toBe(1);
      }
      today += sorted.length - past.length;
    }
    expect(today).toBeGreaterThanOrEqual(2);
    const ann = result.plan.announcements.map((a) => a.tsEvent);
    expect(ann.some((t) => t < OPEN)).toBe(true);
    expect(ann.some((t) => t >= CLOSE)).toBe(true);
  });

  it('news sentiment is in [-1, 1], a few items per symbol, clustered after announcements', () => {
    const news = bySymbol<NewsEvent>(files, 'news');
    expect(news.size).toBe(5);
    for (const rows of news.values()) {
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) expect(Math.abs(r.sentiment)).toBeLessThanOrEqual(1);
    }
    for (const a of result.plan.announcements) {
      const after = news.get(a.symbol)!.filter((r) => r.tsEvent > a.tsEvent && r.tsEvent < a.tsEvent + 21n * MIN);
      expect(after.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('writes one heartbeat per second over the session', () => {
    const hb = files.filter((f) => f.kind === 'heartbeat').flatMap((f) => f.rows);
    expect(hb.length).toBe(6.5 * 3600 + 1);
    expect(hb[0].tsRecv).toBe(OPEN);
    expect(hb[hb.length - 1].tsRecv).toBe(CLOSE);
  });
});

describe('generateDay options', () => {
  const small: Omit<GenerateOptions, 'out'> = { date: DATE, symbols: 3, seed: 7, preset: 'tiny', eventsPerSymbol: 2000 };
  const contentKey = (r: MarketEvent) => JSON.stringify({ ...r, tsRecv: undefined }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

  it('the file split does not change the rows', async () => {
    const a = tempDir();
    const b = tempDir();
    await generateDay({ ...small, out: a });
    const single = await generateDay({ ...small, out: b, partBy: 'single' });
    expect(single.files.filter((f) => f.includes(`${DATE}`)).every((f) => f.endsWith('part-000.parquet'))).toBe(true);
    const rows = async (root: string) =>
      (await readCatalog(root))
        .flatMap((f) => f.rows)
        .map((r) => contentKey(r) + r.tsRecv)
        .sort();
    expect(await rows(b)).toEqual(await rows(a));
  });

  it('delivery fractions change receive times only, never prices, sizes or sequence numbers', async () => {
    const a = tempDir();
    const b = tempDir();
    await generateDay({ ...small, out: a });
    const clean = await generateDay({ ...small, out: b, duplicateFraction: 0, lateFraction: 0 });
    expect(clean.duplicates).toBe(0);
    expect(clean.lateMessages).toBe(0);
    const content = async (root: string) => {
      const seen = new Set<string>();
      for (const f of await readCatalog(root)) for (const r of f.rows) seen.add(`${r.kind}|${contentKey(r)}`);
      return [...seen].sort();
    };
    expect(await content(b)).toEqual(await content(a));
  });

  it('rejects bad arguments with a UsageError', async () => {
    const out = tempDir();
    await expect(generateDay({ ...small, out, date: '2024-13-01' })).rejects.toThrow(UsageError);
    await expect(generateDay({ ...small, out, preset: 'huge' as never })).rejects.toThrow(UsageError);
    await expect(generateDay({ ...small, out, symbols: 0 })).rejects.toThrow(UsageError);
    await expect(generateDay({ ...small, out, seed: 1.5 })).rejects.toThrow(UsageError);
    await expect(generateDay({ ...small, out, duplicateFraction: 2 })).rejects.toThrow(UsageError);
  });
});
