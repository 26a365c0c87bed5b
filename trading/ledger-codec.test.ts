/**
 * The ledger codec: a ledger encoded at any point of any sequence of fills and marks (prices and
 * lots near and above 2^53 money units, so the exact sums' bigint parts are used; partial closes,
 * so the cost basis is a bigint rational with a denominator > 1; start positions; duplicates and
 * refused fills) and decoded again continues exactly as the original: the same bytes when encoded
 * again, and after the rest of the sequence the same state and the same snapshot, bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../core/state-codec.ts';
import { parseInstruments } from './instruments.ts';
import { applyFill, applyMark, clearDirty, DEFAULT_VAR, initLedger, type Ledger, type LedgerConfig } from './ledger.ts';
import { configHash, LEDGER_CODEC_VERSION, LedgerCodecError, ledgerFromData, ledgerToData, type LedgerData } from './ledger-codec.ts';
import { snapshot } from './ledger-snapshot.ts';

const SYMS = ['X', 'Y', 'Z'];
const BOOKS = [['A', 'S'], ['A', 'T'], ['B', 'S']] as const;
// odd units on a coarse money grid (as ledger-fastpath.test.ts): sums above 2^53 would lose low bits in a float
const instruments = parseInstruments({ instruments: { X: { tick: 0.01, lot: 1 }, Y: { tick: 0.01, lot: 3 }, Z: { tick: 0.01, lot: 7 } }, fee_grid: 0.01 }, 'test');
const MAX_TICKS = Math.floor(Number.MAX_SAFE_INTEGER / 7);
const ticks = fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: MAX_TICKS - 1_000_000, max: MAX_TICKS }), fc.integer({ min: 1, max: MAX_TICKS }));
const lots = fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 10_000_000 }));
type Op = { kind: 'fill'; sym: number; book: number; side: 1 | -1; qty: number; price: number; fee: number; dup: boolean } | { kind: 'mark'; sym: number; ticks: number; rv: number | null } | { kind: 'clear' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('fill' as const), sym: fc.nat(3), book: fc.nat(2), side: fc.constantFrom(1 as const, -1 as const), qty: lots, price: ticks, fee: fc.integer({ min: -1000, max: 1000 }), dup: fc.boolean() }),
  fc.record({ kind: fc.constant('mark' as const), sym: fc.nat(3), ticks, rv: fc.option(fc.double({ min: 0.0001, max: 0.1, noNaN: true })) }),
  fc.record({ kind: fc.constant('clear' as const) }),
);
const cfg: LedgerConfig = {
  instruments,
  mark: 'mid',
  ...DEFAULT_VAR,
  startPositions: [
    { account: 'A', strategy: 'S', symbol: 'X', qty: 5, avgCost: 1001, markTicks: 1000 },
    { account: 'B', strategy: 'S', symbol: 'Y', qty: -9, avgCost: 2997, markTicks: null },
  ],
};

/** Applies op; `sym` 3 is a symbol with no instrument (a refused fill, an ignored mark). */
function step(l: Ledger, o: Op, i: number, ts: bigint): void {
  const symbol = SYMS[(o as { sym?: number }).sym ?? 0] ?? 'NOPE';
  if (o.kind === 'fill') {
    const [account, strategy] = BOOKS[o.book];
    // a duplicate repeats the previous fill's id: refused, never applied twice
    applyFill(l, { fillId: `f${o.dup && i > 0 ? i - 1 : i}`, account, strategy, symbol, side: o.side, qty: o.qty, price: o.price, fee: o.fee, orderId: '', tsEvent: ts, tsRecv: ts });
  } else if (o.kind === 'mark') applyMark(l, symbol, ts, o.ticks, o.rv);
  else clearDirty(l);
}

const bytes = (l: Ledger) => encodeState(ledgerToData(l));
const roundTrip = (l: Ledger) => ledgerFromData(l.cfg, decodeState<LedgerData>(encodeState(ledgerToData(l))));

describe('ledger codec', () => {
  it('encode → decode at any point, then the rest of the day: the same state and snapshot, bit for bit', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.nat(), (ops, cut) => {
        const k = cut % (ops.length + 1);
        const a = initLedger(cfg);
        for (let i = 0; i < k; i++) step(a, ops[i], i, BigInt(i + 1));
        const b = roundTrip(a);
        expect(bytes(b)).toEqual(bytes(a));
        for (let i = k; i < ops.length; i++) {
          step(a, ops[i], i, BigInt(i + 1));
          step(b, ops[i], i, BigInt(i + 1));
        }
        expect(bytes(b)).toEqual(bytes(a));
        const t = BigInt(ops.length + 1);
        // JSON of the snapshot would hide -0 and NaN: compare each number by Object.is
        const [sa, sb] = [snapshot(a, t), snapshot(b, t)];
        expect(sb.books.length).toBe(sa.books.length);
        sa.books.forEach((x, i) => { for (const [f, v] of Object.entries(x)) expect(Object.is(v, (sb.books[i] as unknown as Record<string, unknown>)[f]) || JSON.stringify(v) === JSON.stringify((sb.books[i] as unknown as Record<string, unknown>)[f]), f).toBe(true); });
        expect(sb.positions).toEqual(sa.positions);
        expect([b.applied, b.rejected, b.fillIds.size]).toEqual([a.applied, a.rejected, a.fillIds.size]);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps a bigint cost basis with a denominator (average cost after a partial close) and the exact sums above 2^53', () => {
    const l = initLedger(cfg);
    const f = (id: string, side: 1 | -1, qty: number, price: number) => applyFill(l, { fillId: id, account: 'A', strategy: 'T', symbol: 'Z', side, qty, price, fee: 0, orderId: '', tsEvent: 1n, tsRecv: 1n });
    f('a', 1, 1, MAX_TICKS);
    f('b', 1, 2, MAX_TICKS - 1);
    f('c', -1, 1, 5);
    applyMark(l, 'Z', 2n, MAX_TICKS - 7, 0.01);
    const p = l.positions.find((x) => x.symbol === 'Z')!;
    expect(p.basisDen).toBe(3n);
    expect(p.basisNum > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    const book = l.books[l.bookIndex.get('A\u0000T')!];
    expect(book.mv.big).not.toBe(0n);
    const r = roundTrip(l);
    const q = r.positions.find((x) => x.symbol === 'Z')!;
    expect([q.basisNum, q.basisDen, q.qty, q.mark, q.var]).toEqual([p.basisNum, p.basisDen, p.qty, p.mark, p.var]);
    expect(r.books[r.bookIndex.get('A\u0000T')!].mv).toEqual(book.mv);
    // "no mark yet" (NaN in the hot row) survives as null
    expect(r.symbols.get('Y')!.mark).toBeNull();
    expect(r.positions.find((x) => x.symbol === 'Y')!.sodPending).toBe(-9);
  });

  it('refuses another version, and a configuration hash tells configurations apart', () => {
    const d = ledgerToData(initLedger(cfg));
    expect(() => ledgerFromData(cfg, { ...d, v: LEDGER_CODEC_VERSION + 1 })).toThrow(LedgerCodecError);
    expect(() => ledgerFromData(cfg, { ...d, hot: new Float64Array(3) })).toThrow(/hot rows/);
    expect(configHash(cfg)).toBe(configHash({ ...cfg }));
    expect(configHash(cfg)).not.toBe(configHash({ ...cfg, varZ: 1.645 }));
    expect(configHash(cfg)).not.toBe(configHash({ ...cfg, startPositions: [] }));
  });
});
