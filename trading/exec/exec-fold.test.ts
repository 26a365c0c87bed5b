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
import { FILLS, initExecFold, KILL, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, type ExecOutput } from './exec-fold.ts';

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

type Input = { s: 0; ev: MarketEvent } | { s: 1; f: string[] } | { s: 2; k: KillInput };

function run(order: readonly Input[]): string[] {
  const st = initExecFold(parent, cfg);
  const out: ExecOutput[] = [];
  const sink = (o: ExecOutput) => out.push(o);
  order.forEach((x, i) => {
    if (x.s === MARKET) pushMarket(st, x.ev, sink);
    else if (x.s === FILLS) pushFillsEntry(st, x.f, `e${i}`, ins, sink);
    else pushKill(st, x.k, sink);
  });
  for (const s of [MARKET, FILLS, KILL]) pushMark(st, s, END, sink);
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
