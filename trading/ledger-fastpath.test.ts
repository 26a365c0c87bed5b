/**
 * The per-mark fast path (float64 adds into `ExactSum`s, positions' numbers in a Float64Array row)
 * against plain bigint arithmetic: after any sequence of fills and marks — including products
 * near and above 2^53 money units, where the float part must hand over to the bigint part — every
 * book's market value and gross are exactly Σ qty·mark and Σ |qty|·mark recomputed in bigint.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstruments } from './instruments.ts';
import { applyFill, applyMark, DEFAULT_VAR, initLedger, type Ledger } from './ledger.ts';
import { sumValue } from './money.ts';

const SYMS = ['X', 'Y', 'Z'];
const BOOKS = [['A', 'S'], ['A', 'T'], ['B', 'S']] as const;
// Money grid = tick, so 1 tick·lot is 1, 3 or 7 money units (odd: sums above 2^53 would lose
// their low bits in a float, which the default 1e6-unit grid, a multiple of 64, would hide).
// Marks reach 2^53 units; lots up to 1e7 make |qty·mark| ~1e22, far above 2^53, so both halves
// of the exact sums (float part, bigint overflow) are exercised.
const instruments = parseInstruments({ instruments: { X: { tick: 0.01, lot: 1 }, Y: { tick: 0.01, lot: 3 }, Z: { tick: 0.01, lot: 7 } }, fee_grid: 0.01 }, 'test');
const UNIT = [1, 3, 7];
const MAX_TICKS = Math.floor(Number.MAX_SAFE_INTEGER / 7);
const ticks = fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: MAX_TICKS - 1_000_000, max: MAX_TICKS }), fc.integer({ min: 1, max: MAX_TICKS }));
const lots = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10_000_000 }));
const op = fc.oneof(
  fc.record({ kind: fc.constant('fill' as const), sym: fc.nat(2), book: fc.nat(2), side: fc.constantFrom(1 as const, -1 as const), qty: lots, price: ticks }),
  fc.record({ kind: fc.constant('mark' as const), sym: fc.nat(2), ticks, rv: fc.option(fc.double({ min: 0.0001, max: 0.1, noNaN: true })) }),
);

function check(l: Ledger): void {
  for (let bi = 0; bi < l.books.length; bi++) {
    const b = l.books[bi];
    let mv = 0n;
    let gross = 0n;
    for (const pi of b.positions) {
      const p = l.positions[pi];
      if (p.mark === null) continue;
      const q = BigInt(p.qty);
      mv += q * BigInt(p.mark);
      gross += (q < 0n ? -q : q) * BigInt(p.mark);
      expect(p.notional).toBe((Math.abs(p.qty) * p.mark) / l.moneyScale);
    }
    expect(sumValue(b.mv)).toBe(mv);
    expect(sumValue(b.gross)).toBe(gross);
    expect(b.dayPnl).toBe(b.fixed + b.mv.bigNum + b.mv.acc);
  }
}

describe('ledger fast path = bigint', () => {
  it('book MV and gross equal Σ qty·mark and Σ |qty|·mark in bigint after any fills and marks (values around and above 2^53)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const l = initLedger({ instruments, mark: 'mid', ...DEFAULT_VAR });
        let id = 0;
        let ts = 1n;
        for (const o of ops) {
          ts++;
          if (o.kind === 'fill') {
            const [account, strategy] = BOOKS[o.book];
            expect(applyFill(l, { fillId: `f${++id}`, account, strategy, symbol: SYMS[o.sym], side: o.side, qty: o.qty, price: o.price, fee: 0, orderId: '', tsEvent: ts, tsRecv: ts })).toBe('applied');
          } else {
            applyMark(l, SYMS[o.sym], ts, o.ticks, o.rv);
            expect(l.symbols.get(SYMS[o.sym])!.mark).toBe(o.ticks * UNIT[o.sym]);
          }
          check(l);
        }
      }),
      { numRuns: 300 },
    );
  });
});
