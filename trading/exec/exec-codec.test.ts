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
import { decodeExecCheckpoint, encodeExecHead, encodeExecSegment, EXEC_CODEC_VERSION, ExecCodecError, execConfigHash, execDelta, execLogged, NOTHING_LOGGED, type ExecCursor, type ExecLogged } from './exec-codec.ts';
import { FILLS, initExecFold, KILL, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, pushReportsEntry, REPORTS, STREAMS, type ExecFoldState, type ExecOutput } from './exec-fold.ts';
import { encodeReportFields } from './exec-wire.ts';
import { MAX_SEGS, newJournal, planJournal } from './ckpt-journal.ts';
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

/** A checkpoint as one head and one segment of everything (a compaction's). */
const whole = (st: ExecFoldState, cur: ExecCursor, hash: string) => ({ head: encodeExecHead(st, cur, hash, 1), segs: [encodeExecSegment(st, cur, NOTHING_LOGGED)] });

describe('exec codec', () => {
  it('a fold decoded from its checkpoint continues exactly as the original', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 400 }), fc.nat(), fc.integer({ min: 1, max: 40 }), (ops, cutAt, every) => {
        const cut = cutAt % ops.length;
        const hash = execConfigHash(parent, cfg);
        const a = initExecFold(parent, cfg);
        const outA: ExecOutput[] = [];
        const sinkA = (x: ExecOutput) => outA.push(x);
        const times: bigint[] = [];
        let t = T0 - 20n * S;
        for (const o of ops) times.push((t += BigInt(o.dt) * 1_000_000n));
        // a writer's journal: a segment of what was added every `every` inputs, then the head at the cut
        const segs: Uint8Array[] = [];
        let logged: ExecLogged = NOTHING_LOGGED;
        const log = () => {
          if (execDelta(logged, execLogged(a, cursor)) > 0) segs.push(encodeExecSegment(a, cursor, logged));
          logged = execLogged(a, cursor);
        };
        for (let i = 0; i < cut; i++) {
          step(a, ops[i], times[i], i, sinkA);
          if (i % every === 0) log();
        }
        log();
        const head = encodeExecHead(a, cursor, hash, segs.length);
        const d = decodeExecCheckpoint(head, segs, hash);
        expect(d.cur).toEqual(cursor);
        expect(encodeExecHead(d.st, d.cur, hash, segs.length)).toEqual(head);
        // the journal restores what one segment of everything does
        const w = whole(a, cursor, hash);
        expect(encodeExecSegment(d.st, d.cur, NOTHING_LOGGED)).toEqual(w.segs[0]);
        expect(decodeExecCheckpoint(w.head, w.segs, hash)).toEqual(d);
        // dropping a segment is refused (the head names the entries it covers)
        if (segs.length > 1) expect(() => decodeExecCheckpoint(encodeExecHead(a, cursor, hash, segs.length - 1), segs.slice(1), hash)).toThrow(ExecCodecError);
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
        expect(whole(b, cursor, hash)).toEqual(whole(a, cursor, hash));
        expect(b.emitted).toBe(a.emitted);
      }),
      { numRuns: 150 },
    );
  });

  it('does not take "constructor" for a fill id seen', () => {
    const st = initExecFold(parent, cfg);
    const w = whole(st, cursor, execConfigHash(parent, cfg));
    const d = decodeExecCheckpoint(w.head, w.segs, execConfigHash(parent, cfg));
    expect(d.st.fillIds.constructor).toBeUndefined();
  });

  it('refuses a checkpoint of another configuration, version, or none at all', () => {
    const st = initExecFold(parent, cfg);
    const hash = execConfigHash(parent, cfg);
    const w = whole(st, cursor, hash);
    const other = execConfigHash({ ...parent, qty: 201 }, cfg);
    expect(other).not.toBe(hash);
    expect(() => decodeExecCheckpoint(w.head, w.segs, other)).toThrow(new ExecCodecError('taken for another parent order or configuration'));
    expect(() => decodeExecCheckpoint(encodeState({ v: EXEC_CODEC_VERSION + 1 }), [], hash)).toThrow(`version ${EXEC_CODEC_VERSION + 1}, not ${EXEC_CODEC_VERSION}`);
    expect(() => decodeExecCheckpoint(new Uint8Array([250, 1, 2]), [], hash)).toThrow(/unreadable/);
    expect(() => decodeExecCheckpoint(w.head, [], hash)).toThrow('0 segments, the head covers 1');
  });
});

describe('exec checkpoint journal', () => {
  it('a write costs what changed: the head stays bounded as children fill, the segments carry the new fills', () => {
    const p = { id: 'B', symbol: 'X', side: 1 as const, qty: 3000, limitPx: null, start: T0, end: T0 + 600n * S, minChild: 1, maxChild: 3, urgency: 1 };
    const c: ExecConfig = { algo: 'twap', instrument: cfg.instrument, cancelAcks: false, repegTicks: 0 };
    const hash = execConfigHash(p, c);
    const st = initExecFold(p, c);
    const cur: ExecCursor = { ...cursor, actions: [], inputs: [] };
    const news: string[] = [];
    const sink = (x: ExecOutput) => {
      if (x.kind === 'action' && x.action.type === 'new') news.push(x.action.order.id);
    };
    let logged: ExecLogged = NOTHING_LOGGED;
    let j = newJournal();
    const segs: Uint8Array[] = [];
    const sizes: { fills: number; head: number; written: number; whole: number }[] = [];
    let fid = 0;
    for (let i = 0; i < 6100; i++) {
      const t = T0 + BigInt(i) * 100_000_000n;
      for (const s of [FILLS, KILL, REPORTS]) pushMark(st, s, t, sink);
      pushMarket(st, { kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: BigInt(i), bidPx: 100, askPx: 100.01, bidSz: 500, askSz: 500 }, sink);
      // every new child fills whole at the ask (applied once the other streams pass t)
      for (const id of news.splice(0)) {
        const q = st.algo.working.find((w) => w.id === id)?.qty ?? 0;
        pushFillsEntry(st, encodeFillFields({ fillId: `f${++fid}`, account: 'a', strategy: 's', symbol: 'X', side: 1, qty: q, price: 10001, fee: 0, orderId: id, tsEvent: t, tsRecv: t }, ins, 'B'), `e${fid}`, ins, sink);
      }
      // a writer as exec-live's: the head and the journal's segment
      const now = execLogged(st, cur);
      const plan = planJournal(j, execDelta(logged, now), execDelta(NOTHING_LOGGED, now), () => encodeExecSegment(st, cur, logged), () => encodeExecSegment(st, cur, NOTHING_LOGGED));
      const head = encodeExecHead(st, cur, hash, plan.next.segs);
      if (plan.compact) segs.length = 0;
      if (plan.seg !== null) segs.push(plan.seg);
      j = plan.next;
      logged = now;
      if (i % 500 === 0) sizes.push({ fills: st.fills.length, head: head.length, written: head.length + (plan.seg?.length ?? 0), whole: encodeExecSegment(st, cur, NOTHING_LOGGED).length });
    }
    const early = sizes.find((x) => x.fills >= 50)!;
    const late = sizes[sizes.length - 1];
    expect(late.fills).toBeGreaterThan(10 * early.fills);
    // what only grows is in the journal (≥ 10× more), not in the head
    expect(late.whole).toBeGreaterThan(8 * early.whole);
    expect(late.head).toBeLessThan(early.head * 1.2 + 200);
    expect(segs.length).toBeLessThanOrEqual(MAX_SEGS);
    // and the journal restores the fold exactly
    const d = decodeExecCheckpoint(encodeExecHead(st, cur, hash, segs.length), segs, hash);
    expect(whole(d.st, d.cur, hash)).toEqual(whole(st, cur, hash));
    expect(d.st.fills.length).toBe(st.fills.length);
  });
});
