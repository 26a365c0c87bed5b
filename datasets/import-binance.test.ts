import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compareEvents, type BookEvent, type Kind, type MarketEvent, type QuoteEvent, type TradeEvent } from '../core/events.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { ImportReport } from './import-report.ts';
import { importBinance } from './import-binance.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('importBinance on the real BTCUSDT capture (both files as one stream)', 'crypto_binance_btcusdt');
const dir = REAL.path('crypto_binance_btcusdt');
const MS = 1_000_000n;

/** Every event of one kind in the written files (files in date order), with one int64 extra column. */
async function readBack(files: string[], kind: Kind, extra?: string): Promise<{ events: MarketEvent[]; extras: bigint[] }> {
  const events: MarketEvent[] = [];
  const extras: bigint[] = [];
  for (const f of files.filter((f) => f.includes(`${path.sep}${kind}${path.sep}`)).sort()) {
    const src = await openParquet(f);
    let row = 0;
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g);
      for (const e of decodeEvents(kind, t, f, row)) events.push(e);
      if (extra) for (const v of t.getChild(extra)!.toArray() as BigInt64Array) extras.push(v);
      row += t.numRows;
    }
  }
  return { events, extras };
}

const countIn = (files: string[], kind: string, date: string) => files.filter((f) => f.includes(`${path.sep}${kind}${path.sep}${date}${path.sep}`));

function expectContiguousSeq(events: MarketEvent[]): void {
  const seqs = events.map((e) => e.seq).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  seqs.forEach((s, i) => expect(s).toBe(BigInt(i + 1)));
}

describe.skipIf(!REAL.present)('importBinance on the real BTCUSDT capture (both files as one stream)', () => {
  let out: string;
  let report: ImportReport;
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'lockstep-binance-'));
    report = await importBinance(dir, out, { rowGroupSize: 50_000 });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes every trade and bookTicker, split at midnight like the files', async () => {
    expect(report.format).toBe('binance');
    expect(report.rejected).toBe(0);
    expect(report.events.trade).toBe(9_757 + 10_147);
    expect(report.events.quote).toBe(28_040 + 45_134);
    for (const [kind, date, n] of [['trade', '2024-08-08', 9_757], ['trade', '2024-08-09', 10_147], ['quote', '2024-08-08', 28_040], ['quote', '2024-08-09', 45_134]] as const) {
      const files = countIn(report.files, kind, date);
      expect(files.map((f) => path.basename(f))).toEqual(['BTCUSDT.parquet']);
      expect((await openParquet(files[0])).numRows).toBe(n);
    }
  });

  it('applies the snapshot and every diff with no U/u gap (facts from the dataset README)', () => {
    expect(report.notes).toContain('depth diffs: no U/u gap');
    expect(report.notes[0]).toMatch(/^BTCUSDT: snapshot lastUpdateId 50093239218 \(1000 bids, 1000 asks\) applied at .*btcusdt_20240808\.gz line 8, after 3 buffered depth diffs$/);
    expect(report.notes).toContain('2 depth diffs dropped: fully covered by the snapshot (u <= lastUpdateId)');
    expect(report.notes).toContain("1 depth diffs received before the snapshot applied with ts_recv = the snapshot's receive time");
  });

  it('keeps trade fields, exact times and the aggressor side', async () => {
    const { events, extras } = await readBack(report.files, 'trade', 'trade_id');
    const trades = events as TradeEvent[];
    expectContiguousSeq(trades);
    // line 4 of the 0808 file: {"t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true}
    const i = trades.findIndex((t) => t.seq === 1n);
    expect(trades[i]).toEqual({ kind: 'trade', tsEvent: 1_723_161_255_342n * MS, tsRecv: 1_723_161_254_087_896_568n, symbol: 'BTCUSDT', seq: 1n, price: 61837.63, size: 0.02, side: -1 });
    expect(extras[i]).toBe(3_735_683_259n);
    expect(trades.some((t) => t.side === 1)).toBe(true);
    // trade ids rise with seq: receive order is exchange order for one symbol's trades
    for (let k = 1; k < extras.length; k++) expect(extras[k] > extras[k - 1]).toBe(true);
  });

  it('rebuilds a book that matches bookTicker at almost every diff step and is never crossed', async () => {
    const { events: bookEv, extras: updateIds } = await readBack(report.files, 'book', 'update_id');
    const book = bookEv as BookEvent[];
    const quotes = (await readBack(report.files, 'quote')).events as QuoteEvent[];
    expectContiguousSeq(book);
    expectContiguousSeq(quotes);
    const snapTs = 1_723_161_254_206_652_067n;
    const snap = book.filter((b) => b.snapshot);
    expect(snap.length).toBe(2_000);
    expect(snap.filter((b) => b.last).length).toBe(1);
    expect(snap.every((b) => b.tsRecv === snapTs && updateIds[book.indexOf(b)] === 50_093_239_218n)).toBe(true);

    // bookTicker update ids are not catalog columns: read them from the capture to pair each
    // diff with the latest ticker at or before its update id, as the dataset README's figure does.
    const tickers: { u: bigint; b: number; a: number }[] = [];
    for (const f of ['btcusdt_20240808.gz', 'btcusdt_20240809.gz']) {
      for (const line of gunzipSync(readFileSync(path.join(dir, f))).toString('utf8').split('\n')) {
        if (!line.includes('@bookTicker')) continue;
        const d = JSON.parse(line.slice(line.indexOf(' ') + 1)).data;
        tickers.push({ u: BigInt(d.u), b: Number(d.b), a: Number(d.a) });
      }
    }

    // Replay book rows and quotes in the platform's order; compare at the end of each diff.
    const merged = [...book.map((b, i) => ({ e: b as MarketEvent, u: updateIds[i] })), ...quotes.map((q) => ({ e: q as MarketEvent, u: -1n }))].sort((x, y) => compareEvents(x.e, y.e));
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let quote: QuoteEvent | null = null;
    let ti = -1;
    let steps = 0;
    let byUpdateId = 0;
    let byReceive = 0;
    let crossed = 0;
    let lastUpdate = -1n;
    for (const { e, u } of merged) {
      if (e.kind === 'quote') {
        quote = e;
        continue;
      }
      const b = e as BookEvent;
      const side = b.side === 1 ? bids : asks;
      if (b.size === 0) side.delete(b.price);
      else side.set(b.price, b.size);
      if (!b.last || b.snapshot) continue;
      expect(u > lastUpdate).toBe(true);
      lastUpdate = u;
      const bestBid = Math.max(...bids.keys());
      const bestAsk = Math.min(...asks.keys());
      if (bestBid >= bestAsk) crossed++;
      // the one buffered diff applied with the snapshot is not a step of the live stream
      if (b.tsRecv === snapTs) continue;
      steps++;
      while (ti + 1 < tickers.length && tickers[ti + 1].u <= u) ti++;
      if (ti >= 0 && tickers[ti].b === bestBid && tickers[ti].a === bestAsk) byUpdateId++;
      if (quote && quote.bidPx === bestBid && quote.askPx === bestAsk) byReceive++;
    }
    expect(crossed).toBe(0);
    expect(steps).toBe(6_492);
    expect(byUpdateId).toBe(6_490);
    // by receive time (what a consumer of the catalog sees) a few more steps trail the ticker
    expect(byReceive).toBe(6_485);
  });

  it('writes heartbeats every second over the captured span', async () => {
    const hb = (await readBack(report.files, 'heartbeat')).events;
    // the span of the written events: the first one is a trade at ...254.087 s (the earliest lines are buffered diffs)
    expect(hb[0].tsRecv).toBe(1_723_161_255_000_000_000n);
    expect(hb.at(-1)!.tsRecv).toBe(1_723_161_904_000_000_000n);
    expect(report.events.heartbeat).toBe(650);
  });
});

/** A tiny capture, line by line, in the hftbacktest format. */
const stream = (name: string, data: object) => JSON.stringify({ stream: `btcusdt@${name}`, data: { s: 'BTCUSDT', ...data } });
const depth = (E: number, U: number, u: number, b: string[][], a: string[][]) => stream('depth@100ms', { e: 'depthUpdate', E, U, u, b, a });
const trade = (t: number, p: string, q: string, T: number | undefined, m: boolean) => stream('trade', { e: 'trade', E: 1, t, p, q, T, m });
const ticker = (u: number) => stream('bookTicker', { u, b: '100.00', B: '1.0', a: '101.00', A: '2.0' });
const snapshot = (lastUpdateId: number) => JSON.stringify({ lastUpdateId, bids: [['100.00', '1.0'], ['99.00', '3.0']], asks: [['101.00', '2.0']] });
const T0 = 1_723_161_254_000_000_000n;

function writeCapture(dirPath: string, name: string, lines: [bigint, string][]): string {
  mkdirSync(dirPath, { recursive: true });
  const file = path.join(dirPath, name);
  writeFileSync(file, gzipSync(lines.map(([ts, json]) => `${ts} ${json}`).join('\n') + '\n'));
  return file;
}

describe('importBinance on hand-made captures', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-binance-small-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const good: [bigint, string][] = [
    [T0 + 1n, depth(1000, 10, 12, [['100.00', '0.5']], [])], // covered by the snapshot: dropped
    [T0 + 2n, depth(1001, 13, 17, [['99.50', '4.0']], [['101.00', '2.5']])], // straddles lastUpdateId 15: applied
    [T0 + 3n, trade(7, '100.50', '0.25', 1002, false)],
    [T0 + 4n, snapshot(15)],
    [T0 + 5n, ticker(18)],
    [T0 + 6n, depth(1003, 18, 20, [['99.00', '0.00000000']], [])],
  ];
  const corrupt: [bigint, string][] = [
    ...good,
    [T0 + 7n, trade(8, 'abc', '1.0', 1004, true)],
    [T0 + 8n, '{"stream":"btcusdt@trade","data":{'],
    [T0 + 1n, trade(9, '100.00', '1.0', 1005, true)],
    [T0 + 9n, depth(1006, 22, 23, [['98.00', '1.0']], [])],
    [T0 + 10n, trade(10, '100.00', '-1.0', 1007, true)],
    [T0 + 11n, trade(11, '100.00', '1.0', undefined, true)],
    [T0 + 12n, trade(12, '100.00', '1.0', 1008, true)],
  ];

  it('buffers early diffs, restamps the surviving one to the snapshot time and numbers seq from 1', async () => {
    const file = writeCapture(path.join(tmp, 'good'), 'capture.gz', good);
    const out = path.join(tmp, 'out-good');
    const report = await importBinance(file, out);
    expect(report.events).toEqual({ book: 3 + 2 + 1, trade: 1, quote: 1 });
    const book = (await readBack(report.files, 'book')).events as BookEvent[];
    expect(book.map((b) => [b.seq, b.tsRecv - T0, b.tsEvent, b.side, b.price, b.size, b.snapshot, b.last])).toEqual([
      [1n, 4n, T0 + 4n, 1, 100, 1, true, false],
      [2n, 4n, T0 + 4n, 1, 99, 3, true, false],
      [3n, 4n, T0 + 4n, -1, 101, 2, true, true],
      [4n, 4n, 1001n * MS, 1, 99.5, 4, false, false],
      [5n, 4n, 1001n * MS, -1, 101, 2.5, false, true],
      [6n, 6n, 1003n * MS, 1, 99, 0, false, true],
    ]);
    const [t] = (await readBack(report.files, 'trade')).events as TradeEvent[];
    expect(t).toMatchObject({ seq: 1n, side: 1, price: 100.5, size: 0.25, tsEvent: 1002n * MS, tsRecv: T0 + 3n });
  });

  it('takes the snapshot symbol from the stream when the capture starts with the snapshot', async () => {
    const file = writeCapture(path.join(tmp, 'first'), 'capture.txt.gz', [[T0, snapshot(15)], [T0 + 1n, ticker(16)], [T0 + 2n, depth(1, 16, 16, [], [['102.00', '1.0']])]]);
    const report = await importBinance(file, path.join(tmp, 'out-first'));
    const book = (await readBack(report.files, 'book')).events as BookEvent[];
    expect(book.map((b) => [b.symbol, b.snapshot, b.tsRecv - T0])).toEqual([['BTCUSDT', true, 0n], ['BTCUSDT', true, 0n], ['BTCUSDT', true, 0n], ['BTCUSDT', false, 2n]]);
  });

  it('fails on the first malformed line, naming file, line, field and value', async () => {
    const file = writeCapture(path.join(tmp, 'bad'), 'capture.gz', corrupt);
    const err = await importBinance(file, path.join(tmp, 'out-bad')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file, row: 7, rowLabel: 'line', field: 'p', value: 'abc' });
    expect((err as Error).message).toBe(`${file}, line 7, field p: is not a decimal string (value "abc")`);
  });

  it('names the U field of a depth gap', async () => {
    const file = writeCapture(path.join(tmp, 'gap'), 'capture.gz', [...good, [T0 + 7n, depth(1004, 22, 23, [['98.00', '1.0']], [])]]);
    const err = await importBinance(file, path.join(tmp, 'out-gap')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file, row: 7, field: 'U', value: '22' });
    expect((err as Error).message).toContain('expected U = 21');
  });

  it('with onError skip, counts and samples every bad line and imports the rest', async () => {
    const file = writeCapture(path.join(tmp, 'skip'), 'capture.gz', corrupt);
    const report = await importBinance(file, path.join(tmp, 'out-skip'), { onError: 'skip' });
    expect(report.rejected).toBe(6);
    expect(report.rejectedSample.map((r) => [r.line, r.field, r.value])).toEqual([
      [7, 'p', 'abc'],
      [8, 'json', '{"stream":"btcusdt@trade","data":{'],
      [9, 'ts_recv', String(T0 + 1n)],
      [10, 'U', '22'],
      [11, 'q', '-1.0'],
      [12, 'T', 'missing'],
    ]);
    expect(report.rejectedSample.every((r) => r.file === file)).toBe(true);
    expect(report.events.trade).toBe(2);
    // after the gap the book waits for a snapshot that never comes
    expect(report.notes).toContain('depth diffs: 1 U/u gaps (book resynchronised only at a later snapshot)');
    const trades = (await readBack(report.files, 'trade')).events as TradeEvent[];
    expect(trades.map((t) => t.seq)).toEqual([1n, 2n]);
  });
});
