/**
 * The exec checkpoint codec: a fold encoded after any prefix of any mix of market events, fills
 * (duplicates, fills of unknown children, a fill id "constructor"), cancel reports, kill changes and
 * heartbeats, and decoded again, continues exactly as the original: the same outputs for the rest,
 * and the same bytes when encoded again (times above 2^53 ns, so only exact bigints pass). A
 * checkpoint of another configuration, of another version or not a checkpoint at all is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeState } from '../../core/state-codec.ts';
import { encodeFillFields } from '../fills-wire.ts';
import { defaultInstruments } from '../instruments.ts';
import type { KillMode } from '../types.ts';
import { decodeExecCheckpoint, encodeExecCheckpoint, EXEC_CODEC_VERSION, ExecCodecError, execConfigHash, type ExecCursor } from './exec-codec.ts';
import { FILLS, initExecFold, KILL, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, pushReportsEntry, REPORTS, STREAMS, type ExecFoldState, type ExecOutput } from './exec-fold.ts';
import { encodeReportFields } from './exec-wire.ts';
import type { ExecConfig } from './types.ts';

const S = 1_000_000_000n;
// past 2^53 ns: a float would round these
const T0 = 1_700_000_000n * S + 123_456_789n;
const ins = defaultInstruments();
const parent = { id: 'P', symbol: 'X', side: 1 as const, qty: 200, limitPx: null, start: T0, end: T0 + 300n * S, minChild: 5, maxChild: 40, urgency: 0.8 };
const cfg: ExecConfig = { algo: 'twap', instrument: { symbol: 'X', tick: 0.01, lot: 1, multiplier: 1 }, cancelSettleNs: 2n * S, cancelAcks: true, repegTicks: 1, minRestNs: S, maxOrdersPerSec: 3 };

type Op =
  | { k: 'q'; dt: number; bid: number; spread: number; sz: number }
  | { k: 't'; dt: number; size: number }
  | { k: 'f'; dt: number; child: number; qty: number; id: number }
  | { k: 'r'; dt: number; child: number; lots: number }
  | { k: 'kill'; dt: number; mode: KillMode }
  | { k: 'hb'; dt: number; s: number };
const dt = fc.integer({ min: 0, max: 3_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('q' as const), dt, bid: fc.integer({ min: 9_990, max: 10_010 }), spread: fc.integer({ min: 1, max: 3 }), sz: fc.integer({ min: 1, max: 900 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('t' as const), dt, size: fc.integer({ min: 1, max: 500 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('f' as const), dt, child: fc.integer({ min: 1, max: 30 }), qty: fc.integer({ min: 1, max: 20 }), id: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('r' as const), dt, child: fc.integer({ min: 1, max: 30 }), lots: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('kill' as const), dt, mode: fc.constantFrom<KillMode>('off', 'reduce-only', 'halt') }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('hb' as const), dt, s: fc.constantFrom(MARKET, FILLS, KILL, REPORTS) }) },
);

/** Applies op `i` at its time (t advances by dt ms, so every stream's time only moves forward). */
function step(st: ExecFoldState, o: Op, t: bigint, i: number, sink: (x: ExecOutput) => void): void {
  switch (o.k) {
    case 'q':
      pushMarket(st, { kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: BigInt(i), bidPx: o.bid / 100, askPx: (o.bid + o.spread) / 100, bidSz: o.sz, askSz: o.sz + 1 }, sink);
      return;
    case 't':
      pushMarket(st, { kind: 'trade', symbol: 'X', tsEvent: t, tsRecv: t, seq: BigInt(i), price: 100, size: o.size, side: -1 }, sink);
      return;
    case 'f': {
      const fillId = o.id === 0 ? 'constructor' : `f${o.id}`;
      pushFillsEntry(st, encodeFillFields({ fillId, account: 'a', strategy: 's', symbol: 'X', side: 1, qty: o.qty, price: 10000, fee: 3, orderId: `P-${o.child}`, tsEvent: t, tsRecv: t }, ins, 'P'), `e${i}`, ins, sink);
      return;
    }
    case 'r':
      pushReportsEntry(st, encodeReportFields({ orderId: `P-${o.child}`, parentId: 'P', symbol: 'X', lots: o.lots, result: o.lots === 0 ? 'too-late' : 'cancelled', tsEvent: t, tsRecv: t }), `r${i}`, sink);
      return;
    case 'kill':
      pushKill(st, { symbol: 'X', mode: o.mode, reason: 'test', ts: t }, sink);
      return;
    case 'hb':
      pushMark(st, o.s, t, sink);
  }
}

const show = (out: ExecOutput[]) => out.map((x) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
const cursor: ExecCursor = { market: '(1-0', fills: '(2-3', reports: '-', kills: '-', mode: 'halt', actions: [], inputs: ['{"stream":"kill"}'] };

describe('exec codec', () => {
  it('a fold decoded from its checkpoint continues exactly as the original', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 400 }), fc.nat(), (ops, cutAt) => {
        const cut = cutAt % ops.length;
        const hash = execConfigHash(parent, cfg);
        const a = initExecFold(parent, cfg);
        const outA: ExecOutput[] = [];
        const sinkA = (x: ExecOutput) => outA.push(x);
        const times: bigint[] = [];
        let t = T0 - 20n * S;
        for (const o of ops) times.push((t += BigInt(o.dt) * 1_000_000n));
        for (let i = 0; i < cut; i++) step(a, ops[i], times[i], i, sinkA);
        const bytes = encodeExecCheckpoint(a, cursor, hash);
        const d = decodeExecCheckpoint(bytes, hash);
        expect(d.cur).toEqual(cursor);
        expect(encodeExecCheckpoint(d.st, d.cur, hash)).toEqual(bytes);
        const b = d.st;
        const outB: ExecOutput[] = [];
        const from = outA.length;
        for (let i = cut; i < ops.length; i++) {
          step(a, ops[i], times[i], i, sinkA);
          step(b, ops[i], times[i], i, (x) => outB.push(x));
        }
        for (const s of STREAMS) {
          pushMark(a, s, parent.end + 60n * S, sinkA);
          pushMark(b, s, parent.end + 60n * S, (x) => outB.push(x));
        }
        expect(show(outB)).toEqual(show(outA.slice(from)));
        expect(encodeExecCheckpoint(b, cursor, hash)).toEqual(encodeExecCheckpoint(a, cursor, hash));
        expect(b.emitted).toBe(a.emitted);
      }),
      { numRuns: 150 },
    );
  });

  it('does not take "constructor" for a fill id seen', () => {
    const st = initExecFold(parent, cfg);
    const d = decodeExecCheckpoint(encodeExecCheckpoint(st, cursor, execConfigHash(parent, cfg)), execConfigHash(parent, cfg));
    expect(d.st.fillIds.constructor).toBeUndefined();
  });

  it('refuses a checkpoint of another configuration, version, or none at all', () => {
    const st = initExecFold(parent, cfg);
    const hash = execConfigHash(parent, cfg);
    const bytes = encodeExecCheckpoint(st, cursor, hash);
    const other = execConfigHash({ ...parent, qty: 201 }, cfg);
    expect(other).not.toBe(hash);
    expect(() => decodeExecCheckpoint(bytes, other)).toThrow(new ExecCodecError('taken for another parent order or configuration'));
    expect(() => decodeExecCheckpoint(encodeState({ v: EXEC_CODEC_VERSION + 1 }), hash)).toThrow(`version ${EXEC_CODEC_VERSION + 1}, not ${EXEC_CODEC_VERSION}`);
    expect(() => decodeExecCheckpoint(new Uint8Array([250, 1, 2]), hash)).toThrow(/unreadable/);
  });
});
