import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRows, emptyBatch, eventAt, firstInvalidRow, int64ToF64, type EventBatch } from './event-batch.ts';
import { compareEvents, KINDS, type Kind } from './events.ts';
import { validateEvent } from './validate-event.ts';

const DAY = 86_400_000_000_000n;
const T0 = 1_710_460_800_000_000_000n;

/** A value that is fine, at a bound, just past it, or absurd: what the columnar pre-check must not miss. */
const arbNum = fc.constantFrom(1, 0, -0, -1, 0.5, 1e15, 1e15 - 1, -1e15, NaN, Infinity, -Infinity, 2, 1e-300, 5e-324);
const arbTs = fc.oneof(
  fc.bigInt({ min: T0 - 1000n, max: T0 + 1000n }),
  fc.constantFrom(-1n, 0n, T0 + DAY, T0 + DAY + 1n, T0 + DAY + 200n, T0 + DAY - 200n, 2n ** 63n - 1n, -(2n ** 63n)),
);

interface Row {
  tsEvent: bigint;
  tsRecv: bigint;
  seq: bigint;
  symbol: string;
  nums: number[];
  side: number;
  action: string;
}

const arbRow = fc.record({
  tsEvent: arbTs,
  tsRecv: fc.oneof(fc.constant(T0), arbTs),
  seq: fc.constantFrom(0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)),
  symbol: fc.constantFrom('A', 'B', ''),
  nums: fc.array(arbNum, { minLength: 6, maxLength: 6 }),
  side: fc.constantFrom(1, -1, 0, 2, -128),
  action: fc.constantFrom('split', 'dividend', 'merger'),
});

function batchOf(kind: Kind, rows: Row[]): EventBatch {
  const n = rows.length;
  const symbols = ['A', 'B', ''];
  const tsRecv = BigInt64Array.from(rows, (r) => r.tsRecv);
  const b = emptyBatch(kind, n, {
    tsEvent: BigInt64Array.from(rows, (r) => r.tsEvent),
    tsRecv,
    seq: BigInt64Array.from(rows, (r) => r.seq),
    tsRecvF: int64ToF64(tsRecv),
    symbolId: Int32Array.from(rows, (r) => symbols.indexOf(r.symbol)),
    symbols,
  });
  const col = (j: number) => Float64Array.from(rows, (r) => r.nums[j]);
  b.price = col(0);
  b.size = col(1);
  b.side = Int8Array.from(rows, (r) => r.side);
  b.bidPx = col(0);
  b.bidSz = col(1);
  b.askPx = col(2);
  b.askSz = col(3);
  b.snapshot = Uint8Array.from(rows, (r) => (r.nums[4] > 0 ? 1 : 0));
  b.last = Uint8Array.from(rows, (r) => (r.nums[5] > 0 ? 1 : 0));
  b.fiscalYear = Int32Array.from(rows, () => 2024);
  b.fiscalPeriod = rows.map(() => 'Q1');
  b.eps = col(0);
  b.epsTtm = col(1);
  b.bookValuePerShare = col(2);
  b.sharesOutstanding = col(3);
  b.action = rows.map((r) => r.action);
  b.tsEx = BigInt64Array.from(rows, (r) => r.tsEvent);
  b.ratio = col(4);
  b.amount = col(5);
  b.sentiment = col(0);
  return b;
}

describe('event batches', () => {
  it('int64ToF64 is Number(bigint): the correctly rounded value the merge compares first', () => {
    const xs = [0n, 1n, -1n, T0, T0 + 127n, T0 + 128n, T0 + 129n, T0 + 384n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
    expect([...int64ToF64(BigInt64Array.from(xs))]).toEqual(xs.map((x) => Number(x)));
  });

  it('firstInvalidRow finds exactly the first row validateEvent rejects, with its problem, for every kind', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.array(arbRow, { maxLength: 12 }), (kind, rows) => {
        const b = batchOf(kind, rows);
        let want: { row: number; problem: unknown } | null = null;
        for (let i = 0; i < rows.length && want === null; i++) {
          const p = validateEvent(eventAt(b, i));
          if (p) want = { row: i, problem: p };
        }
        expect(firstInvalidRow(b, 0, rows.length)).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('compareRows orders rows of any two batches as compareEvents orders their events', () => {
    const arbKey = fc.record({ tsRecv: fc.bigInt({ min: T0, max: T0 + 600n }), symbol: fc.constantFrom('A', 'B', ''), seq: fc.bigInt({ min: 0n, max: 3n }) });
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.constantFrom(...KINDS), fc.array(arbKey, { minLength: 1, maxLength: 6 }), fc.array(arbKey, { minLength: 1, maxLength: 6 }), (ka, kb, ra, rb) => {
        const full = (r: (typeof ra)[number]): Row => ({ ...r, tsEvent: r.tsRecv, nums: [1, 1, 1, 1, 1, 1], side: 1, action: 'split' });
        const a = batchOf(ka, ra.map(full));
        const b = batchOf(kb, rb.map(full));
        for (let i = 0; i < a.n; i++) for (let j = 0; j < b.n; j++) expect(Math.sign(compareRows(a, i, b, j))).toBe(Math.sign(compareEvents(eventAt(a, i), eventAt(b, j))));
      }),
    );
  });
});
