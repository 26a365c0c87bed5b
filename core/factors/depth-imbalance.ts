import { defineDerivation } from '../derivation.ts';
import { applyLevel, sideDepth, initOrderBook, noteSeq, checkCrossed, type OrderBook } from '../kernels/order-book.ts';
import { defineFactor } from '../factor.ts';

/**
 * The symbol's L2 book, applied once per book row and shared by the depth factors. Fires on the
 * last row of an exchange update (the book is complete) and on any row while unsynced (readers
 * must show null).
 */
export const orderBook = defineDerivation<OrderBook>({
  name: 'order_book',
  inputs: ['book'],
  init: () => initOrderBook(true),
  update(book, ev) {
    if (ev.kind !== 'book') return false;
    noteSeq(book, ev.seq);
    applyLevel(book, ev.side, ev.price, ev.size, ev.snapshot);
    if (ev.last) checkCrossed(book);
    return ev.last || !book.synced;
  },
  source: [initOrderBook, noteSeq, applyLevel, checkCrossed],
});

/**
 * L2 depth imbalance over the top `levels` price levels: (Σ bid size - Σ ask size) / (Σ bid size
 * + Σ ask size); `depth_imbalance_5` and `depth_imbalance_10` in the default set.
 *
 * Computed only on the last row of an exchange update (`last`), so a half-applied update is never
 * seen; rows in between carry the previous complete book's value. Policy: null while either side
 * of the book holds fewer than `levels` price levels (version 2; version 1 summed the levels there
 * were, so on a 1-level LOBSTER book `depth_imbalance_10` silently equalled `depth_imbalance_5`
 * and the level-1 imbalance). The book must start
 * from a snapshot; a gap in the book's sequence numbers (a lost update) makes the value null until
 * the next snapshot, and so does a late book row (its update was already overtaken). Crossed books
 * are counted in the state, not hidden. Reference: a naive book rebuild (contract suite) and the
 * Binance BTCUSDT data, whose rebuilt top of book matches bookTicker (kernels/order-book.test.ts).
 */
export const depthImbalance = defineFactor({
  name: (p) => `depth_imbalance_${p.levels}`,
  version: 2,
  description: 'Bid/ask size imbalance over the top N book levels',
  params: { levels: 5 },
  rules: { levels: { kind: 'int', min: 1, max: 1000 } },
  inputs: orderBook.inputs,
  derive: { from: orderBook, when: 'fired' },
  warmup: 'a book snapshot and the end of one update',
  init: () => ({ v: NaN }),
  update(s, ev, p, book: OrderBook) {
    // fired: the update is complete (last row), or the book is unsynced
    let v = NaN;
    // a side shallower than `levels` would make this a different, smaller-depth measure: null
    if (ev.kind === 'book' && ev.last && book.synced && book.bids.n >= p.levels && book.asks.n >= p.levels) {
      const b = sideDepth(book.bids, p.levels);
      const a = sideDepth(book.asks, p.levels);
      if (b + a > 0) v = (b - a) / (b + a);
    }
    s.v = v;
    return v === v ? v : null;
  },
  source: [sideDepth],
});
