/**
 * The execution fold over merged streams (exec-fold.ts): its outputs depend only on each stream's
 * own sequence, not on how the market, fills and kill streams interleave or are batched (what
 * makes a live run and its replay agree); bad and unappliable fills are dead letters with reasons.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../core/events.ts';
import { encodeFillFields, heartbeatFields } from '../fills-wire.ts';
import { defaultInstruments } from '../instruments.ts';
import type { Fill, KillInput } from '../types.ts';
import { FILLS, initExecFold, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, pushReportsEntry, REPORTS, STREAMS, type ExecOutput } from './exec-fold.ts';
import { encodeReportFields } from './exec-wire.ts';
import type { ExecConfig } from './types.ts';

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const INSTR = { symbol: 'X', tick: 0.01, lot: 1, multiplier: 1 };
const ins = defaultInstruments();
const parent = { id: 'P', symbol: 'X', side: 1 as const, qty: 100, limitPx: null, start: T0, end: T0 + 600n * S, minChild: 10 };
const cfg = { algo: 'twap' as const, instrument: INSTR, cancelSettleNs: 3n * S };

let seq = 0n;
/** Quotes every 5 s (several at one instant now and then) and a print every 20 s, over 11 minutes. */
function market(): MarketEvent[] {
  const evs: MarketEvent[] = [];
  for (let i = 0n; i <= 132n; i++) {
    const t = T0 - 5n * S + i * 5n * S;
    const bid = 100 + Number(i % 7n) * 0.01;
    evs.push({ kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: ++seq, bidPx: bid, askPx: bid + 0.02, bidSz: 500, askSz: 500 });
    if (i % 3n === 0n) evs.push({ kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: ++seq, bidPx: bid, askPx: bid + 0.03, bidSz: 400, askSz: 400 });
    if (i % 4n === 0n) evs.push({ kind: 'trade', symbol: 'X', tsEvent: t, tsRecv: t, seq: ++seq, price: bid + 0.01, size: 300, side: 1 });
    if (i % 5n === 0n) evs.push({ kind: 'quote', symbol: 'Y', tsEvent: t, tsRecv: t, seq: ++seq, bidPx: 1, askPx: 2, bidSz: 1, askSz: 1 });
  }
  return evs;
}

const fill = (n: number, order: number, t: bigint, qty: number): Fill => ({ fillId: `f${n}`, account: 'a', strategy: 's', symbol: 'X', side: 1, qty, price: 10001, fee: 0, orderId: `P-${order}`, tsEvent: t, tsRecv: t });

/** Fills (some at the instants of market events, one duplicate, one of another parent, one malformed) and heartbeats. */
function fillsEntries(): string[][] {
  const out: string[][] = [];
  for (let i = 1; i <= 12; i++) {
    const t = T0 + BigInt(i) * 45n * S + (i % 2 === 0 ? 0n : 1_000_000n);
    out.push(encodeFillFields(fill(i, i, t, 5), ins, 'P'));
    if (i === 4) out.push(encodeFillFields(fill(i, i, t, 5), ins, 'P'));
    if (i === 6) out.push(encodeFillFields({ ...fill(99, 1, t, 5), orderId: 'Q-1' }, ins, 'Q'));
    if (i === 8) out.push(['fill_id', 'bad', 'account', 'a', 'strategy', 's', 'symbol', 'X', 'side', 'up', 'qty', '1', 'price', '1', 'ts_event', '1', 'ts_recv', String(t)]);
    out.push(heartbeatFields(t + 2n * S));
  }
  return out;
}

const kills: KillInput[] = [{ symbol: 'X', mode: 'halt', reason: 'test', ts: T0 + 400n * S }];
const END = T0 + 700n * S;

type Input = { s: 0; ev: MarketEvent } | { s: 1; f: string[] } | { s: 2; k: KillInput } | { s: 3; f: string[] };

function run(order: readonly Input[], c: ExecConfig = cfg): string[] {
  const st = initExecFold(parent, c);
  const out: ExecOutput[] = [];
  const sink = (o: ExecOutput) => out.push(o);
  order.forEach((x, i) => {
    if (x.s === MARKET) pushMarket(st, x.ev, sink);
    else if (x.s === FILLS) pushFillsEntry(st, x.f, `e${i}`, ins, sink);
    else if (x.s === REPORTS) pushReportsEntry(st, x.f, `e${i}`, sink);
    else pushKill(st, x.k, sink);
  });
  for (const s of STREAMS) pushMark(st, s, END, sink);
  // the tag is the position in this interleaving: compare what was decided, not where it came from
  return out.map((o) => JSON.stringify(o.kind === 'action' ? o.action : { dead: o.reason, ts: o.ts }, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
}

const streams = (): Input[][] => [market().map((ev) => ({ s: 0 as const, ev })), fillsEntries().map((f) => ({ s: 1 as const, f })), kills.map((k) => ({ s: 2 as const, k }))];

describe('exec-fold', () => {
  const reference = run(streams().flat());

  it('emits orders, cancels at the halt, and the dead letters with their reasons', () => {
    expect(reference.some((l) => l.includes('"type":"new"'))).toBe(true);
    expect(reference.some((l) => l.includes('kill switch halt: test'))).toBe(true);
    expect(reference.some((l) => l.includes('fill_id \\"f4\\": duplicate'))).toBe(true);
    expect(reference.some((l) => l.includes('side') && l.includes('must be buy or sell'))).toBe(true);
    // another parent's fill is neither applied nor a dead letter
    expect(reference.some((l) => l.includes('Q-1'))).toBe(false);
    const halt = kills[0].ts;
    expect(reference.filter((l) => l.includes('"type":"new"')).every((l) => BigInt(JSON.parse(l).order.ts) < halt)).toBe(true);
  });

  it('gives the same outputs however the streams interleave', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 400, maxLength: 400 }), (picks) => {
        const [m, f, k] = streams();
        const heads = [0, 0, 0];
        const qs = [m, f, k];
        const order: Input[] = [];
        for (const p of picks) {
          const s = heads[p] < qs[p].length ? p : heads.findIndex((h, i) => h < qs[i].length);
          if (s < 0) break;
          order.push(qs[s][heads[s]++]);
        }
        for (let s = 0; s < 3; s++) while (heads[s] < qs[s].length) order.push(qs[s][heads[s]++]);
        expect(run(order)).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });
});

describe('exec-fold cancel reports', () => {
  const halt = kills[0].ts;
  const acks = { ...cfg, cancelAcks: true };
  const late = (id: string, n: number, t: bigint) => encodeFillFields({ ...fill(n, 0, t, 1), orderId: id }, ins, 'P');
  const report = (id: string, t: bigint, lots: number, p = 'P') => encodeReportFields({ orderId: id, parentId: p, symbol: 'X', lots, result: 'cancelled', tsEvent: t, tsRecv: t });
  const tsOf = (e: string[]) => BigInt(e[e.indexOf('ts_recv') + 1]);
  /**
   * Every cancel confirmed 1 s after it, but the first (before any report could change what the
   * runs decide): a fill of it 10 s after the cancel (past the 3 s settle time), its report at
   * 12 s, then another fill at 20 s.
   */
  function withReports(cancels: { id: string; ts: bigint }[]): Input[][] {
    const [m, f, k] = streams();
    const fl = f.map((x) => (x as { f: string[] }).f);
    const first = cancels[0];
    if (first) {
      const at = (t: bigint) => fl.findIndex((e) => tsOf(e) > t);
      fl.splice(at(first.ts + 10n * S), 0, late(first.id, 201, first.ts + 10n * S));
      fl.splice(at(first.ts + 20n * S), 0, late(first.id, 202, first.ts + 20n * S));
    }
    const rs = [report('Q-1', halt, 3, 'Q'), ...cancels.map((c) => report(c.id, c.ts + (c === first ? 12n : 1n) * S, 1))].sort((a, b) => (tsOf(a) < tsOf(b) ? -1 : tsOf(a) > tsOf(b) ? 1 : 0));
    rs.push(['kind', 'heartbeat', 'ts_recv', String(END)]);
    return [m, fl.map((x) => ({ s: 1 as const, f: x })), k, rs.map((x) => ({ s: 3 as const, f: x }))];
  }
  // the cancels of a run whose every cancel is confirmed: a fixpoint (a report changes what follows)
  let cancels: { id: string; ts: bigint }[] = [];
  for (let i = 0; i < 20; i++) {
    const next = run(withReports(cancels).flat(), acks).flatMap((l) => {
      const a = JSON.parse(l);
      return a.type === 'cancel' ? [{ id: a.cancel.id as string, ts: BigInt(a.cancel.ts) }] : [];
    });
    const same = next.length === cancels.length && next.every((c, j) => c.id === cancels[j].id && c.ts === cancels[j].ts);
    cancels = next;
    if (same) break;
  }
  const inputs = () => withReports(cancels);

  it('applies a fill of a cancelled child until its report, and refuses one after it', () => {
    expect(cancels.some((c) => c.ts === halt)).toBe(true);
    const out = run(inputs().flat(), acks);
    const tenS = `"ts":"${cancels[0].ts + 10n * S}"`;
    const twentyS = `"ts":"${cancels[0].ts + 20n * S}"`;
    // the fill 10 s after the halt is applied; the one after the report is refused
    expect(out.some((l) => l.includes('not a working child') && l.includes(tenS))).toBe(false);
    expect(out.some((l) => l.includes('not a working child') && l.includes(twentyS))).toBe(true);
    // with the settle time alone (no confirmed cancels) the 10 s one is refused too
    const settle = run(inputs().flat(), cfg);
    expect(settle.some((l) => l.includes('not a working child') && l.includes(tenS))).toBe(true);
  });

  it('gives the same outputs however the four streams interleave', () => {
    const reference = run(inputs().flat(), acks);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 400, maxLength: 400 }), (picks) => {
        const qs = inputs();
        const heads = [0, 0, 0, 0];
        const order: Input[] = [];
        for (const p of picks) {
          const s = heads[p] < qs[p].length ? p : heads.findIndex((h, i) => h < qs[i].length);
          if (s < 0) break;
          order.push(qs[s][heads[s]++]);
        }
        for (let s = 0; s < 4; s++) while (heads[s] < qs[s].length) order.push(qs[s][heads[s]++]);
        expect(run(order, acks)).toEqual(reference);
      }),
      { numRuns: 30 },
    );
  });
});
