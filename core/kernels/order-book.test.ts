import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeState } from '../state-codec.ts';
import {
  applyLevel,
  bestAsk,
  bestAskSize,
  bestBid,
  bestBidSize,
  checkCrossed,
  depth,
  initOrderBook,
  isCrossed,
  levelCount,
  levelPrice,
  levelSize,
  noteSeq,
  type BookSideId,
  type OrderBook,
} from './order-book.ts';
import { realData } from '../../testing/real-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const BINANCE_FILES = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz'].map((f) => `crypto_binance_btcusdt/${f}`);
const REAL = realData('real Binance BTCUSDT depth stream (2024-08-08/09)', ...BINANCE_FILES);
const binanceFiles = BINANCE_FILES.map((f) => REAL.path(f));

type Row = { side: BookSideId; price: number; size: number; snapshot: boolean };

/** Naive model: two Maps, sorted on read. */
function modelApply(rows: Row[]) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let inSnap = false;
  for (const r of rows) {
    if (r.snapshot && !inSnap) {
      bids.clear();
      asks.clear();
    }
    inSnap = r.snapshot;
    const m = r.side === 1 ? bids : asks;
    if (r.size === 0) m.delete(r.price);
    else m.set(r.price, r.size);
  }
  const sortDesc = [...bids.entries()].sort((a, b) => b[0] - a[0]);
  const sortAsc = [...asks.entries()].sort((a, b) => a[0] - b[0]);
  return { bids: sortDesc, asks: sortAsc };
}

function levels(book: OrderBook, side: BookSideId): [number, number][] {
  return Array.from({ length: levelCount(book, side) }, (_, i) => [levelPrice(book, side, i)!, levelSize(book, side, i)!]);
}

const rowArb = fc.record({
  side: fc.constantFrom<BookSideId>(1, -1),
  price: fc.integer({ min: 9_950, max: 10_050 }).map((p) => p / 100),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 }).map((s) => s / 100)),
  snapshot: fc.constant(false),
});
const rowsArb = fc.array(fc.oneof({ weight: 9, arbitrary: rowArb }, { weight: 1, arbitrary: rowArb.map((r) => ({ ...r, snapshot: true })) }), { maxLength: 300 });

describe('L2 order book', () => {
  it('matches a naive sorted-map model for any sequence of rows (inserts, updates, deletes, snapshots)', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const book = initOrderBook(false, 2);
        for (const r of rows) applyLevel(book, r.side, r.price, r.size, r.snapshot);
        const m = modelApply(rows);
        expect(levels(book, 1)).toEqual(m.bids);
        expect(levels(book, -1)).toEqual(m.asks);
        expect(bestBid(book)).toBe(m.bids.length ? m.bids[0][0] : null);
        expect(bestAsk(book)).toBe(m.asks.length ? m.asks[0][0] : null);
        expect(bestBidSize(book)).toBe(m.bids.length ? m.bids[0][1] : null);
        expect(bestAskSize(book)).toBe(m.asks.length ? m.asks[0][1] : null);
        for (const n of [1, 3, 10]) {
          expect(depth(book, 1, n)).toBe(m.bids.slice(0, n).reduce((a, [, s]) => a + s, 0));
          expect(depth(book, -1, n)).toBe(m.asks.slice(0, n).reduce((a, [, s]) => a + s, 0));
        }
        expect(isCrossed(book)).toBe(m.bids.length > 0 && m.asks.length > 0 && m.bids[0][0] >= m.asks[0][0]);
      }),
    );
  });

  it('the first snapshot row after a non-snapshot row clears both sides; later snapshot rows add', () => {
    const b = initOrderBook();
    applyLevel(b, 1, 99, 1, false);
    applyLevel(b, -1, 101, 1, false);
    applyLevel(b, 1, 98, 2, true);
    expect(levelCount(b, -1)).toBe(0);
    applyLevel(b, -1, 102, 3, true);
    expect([bestBid(b), bestAsk(b)]).toEqual([98, 102]);
    applyLevel(b, -1, 101.5, 1, false);
    applyLevel(b, 1, 97, 1, true); // new snapshot run: clears again
    expect([bestBid(b), bestAsk(b)]).toEqual([97, null]);
    expect(levelPrice(b, 1, 1)).toBeNull();
    expect(levelSize(b, -1, 0)).toBeNull();
  });

  it('marks the book unsynced on a sequence gap until the next snapshot', () => {
    const b = initOrderBook();
    expect(noteSeq(b, 10n)).toBe(true);
    expect(noteSeq(b, 11n)).toBe(true);
    expect(noteSeq(b, 13n)).toBe(false); // 12 missing
    expect(b.gaps).toBe(1);
    expect(noteSeq(b, 12n)).toBe(false); // late row: applied by the fold, book stays unsynced
    expect(noteSeq(b, 14n)).toBe(false);
    applyLevel(b, 1, 100, 1, false);
    expect(b.synced).toBe(false);
    applyLevel(b, 1, 100, 1, true);
    expect(b.synced).toBe(true);
    expect(noteSeq(b, 15n)).toBe(true);
    // a late row after the resync (its update was overtaken) unsyncs the book again
    expect(noteSeq(b, 12n)).toBe(false);
    const strict = initOrderBook(true);
    expect(strict.synced).toBe(false);
    applyLevel(strict, -1, 5, 1, true);
    expect(strict.synced).toBe(true);
  });

  it('a book saved before the sequence halves existed continues as one that has them', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 100 }), fc.nat(), (seqs, cut) => {
        const at = cut % seqs.length;
        const fresh = initOrderBook();
        const old = initOrderBook();
        const a = seqs.slice(0, at).map((q) => noteSeq(fresh, BigInt(q)));
        const b = seqs.slice(0, at).map((q) => noteSeq(old, BigInt(q)));
        // what an earlier version's snapshot holds: no hi / lo
        const { hi: _hi, lo: _lo, ...saved } = old;
        const restored = saved as OrderBook;
        a.push(...seqs.slice(at).map((q) => noteSeq(fresh, BigInt(q))));
        b.push(...seqs.slice(at).map((q) => noteSeq(restored, BigInt(q))));
        expect(b).toEqual(a);
        expect([restored.gaps, restored.lastSeq, restored.synced]).toEqual([fresh.gaps, fresh.lastSeq, fresh.synced]);
      }),
    );
  });

  it('counts crossed observations', () => {
    const b = initOrderBook();
    applyLevel(b, 1, 100, 1, false);
    applyLevel(b, -1, 100, 1, false);
    expect(checkCrossed(b)).toBe(true);
    applyLevel(b, -1, 100, 0, false);
    applyLevel(b, -1, 100.5, 1, false);
    expect(checkCrossed(b)).toBe(false);
    expect(b.crossedCount).toBe(1);
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(rowsArb, fc.nat(), (rows, cut) => {
        const k = cut % (rows.length + 1);
        const a = initOrderBook(false, 2);
        rows.forEach((r) => applyLevel(a, r.side, r.price, r.size, r.snapshot));
        let b = initOrderBook(false, 2);
        rows.slice(0, k).forEach((r) => applyLevel(b, r.side, r.price, r.size, r.snapshot));
        b = decodeState<OrderBook>(encodeState(b));
        rows.slice(k).forEach((r) => applyLevel(b, r.side, r.price, r.size, r.snapshot));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });

  describe.skipIf(!REAL.present)('real Binance BTCUSDT depth stream (2024-08-08/09)', () => {
    it('snapshot + diffs rebuild a book whose top matches bookTicker and is never crossed', () => {
      const book = initOrderBook(true);
      let lastUpdateId = -1;
      const pending: any[] = [];
      let tickerBid = NaN;
      let tickerAsk = NaN;
      let steps = 0;
      let matches = 0;
      let crossed = 0;
      const applyDiff = (d: any) => {
        for (const [p, q] of d.b) applyLevel(book, 1, Number(p), Number(q), false);
        for (const [p, q] of d.a) applyLevel(book, -1, Number(p), Number(q), false);
        steps++;
        if (bestBid(book) === tickerBid && bestAsk(book) === tickerAsk) matches++;
        if (checkCrossed(book)) crossed++;
      };
      for (const file of binanceFiles) {
        for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
          if (!line) continue;
          const msg = JSON.parse(line.slice(line.indexOf(' ') + 1));
          if ('lastUpdateId' in msg) {
            lastUpdateId = msg.lastUpdateId;
            for (const [p, q] of msg.bids) applyLevel(book, 1, Number(p), Number(q), true);
            for (const [p, q] of msg.asks) applyLevel(book, -1, Number(p), Number(q), true);
            for (const d of pending) if (d.u > lastUpdateId) applyDiff(d);
            continue;
          }
          const d = msg.data;
          if (msg.stream.endsWith('@bookTicker')) {
            tickerBid = Number(d.b);
            tickerAsk = Number(d.a);
          } else if (msg.stream.endsWith('@depth@100ms')) {
            if (lastUpdateId < 0) pending.push(d);
            else if (d.u > lastUpdateId) applyDiff(d);
          }
        }
      }
      console.log(`Binance book: ${steps} diff steps, top equals latest bookTicker in ${matches}, crossed ${crossed}, levels ${levelCount(book, 1)}/${levelCount(book, -1)}`);
      expect(book.synced).toBe(true);
      expect(crossed).toBe(0);
      expect(steps).toBeGreaterThan(6_000);
      expect(matches / steps).toBeGreaterThan(0.99);
    });
  });
});
