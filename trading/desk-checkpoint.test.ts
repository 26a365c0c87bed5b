/**
 * The desk checkpoint without Redis: a desk fold checkpointed at any point of a random interleaving
 * of two row streams and the fills stream (inputs still queued in the merge, limits in breach, the
 * sample clock mid-second) and restored continues with exactly the outputs of the uninterrupted
 * fold; a checkpoint taken under another configuration or number of shards is refused, saying why.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDeskCheckpoint, encodeDeskCheckpoint } from './desk-checkpoint.ts';
import { initDesk, pushDeskFills, pushDeskRows, pushDeskWatermark, type DeskConfig, type DeskOutput, type DeskRow } from './desk-fold.ts';
import { parseInstruments } from './instruments.ts';
import { DEFAULT_VAR } from './ledger.ts';
import { parseLimits } from './limits.ts';

const ins = parseInstruments({ default: { tick: 0.01, lot: 1 } }, 'test');
const cfg: DeskConfig = { ledger: { instruments: ins, mark: 'mid', ...DEFAULT_VAR }, limits: parseLimits({ default_symbol: { max_position: 30 }, max_drawdown: 0.5 }, 'limits.json'), rowStreams: 2 };
const SYMS = ['A', 'B', 'C'];
const S = 1_000_000_000n;

type Step = { kind: 'row'; s: number; sym: number; dt: number; mid: number | null; rv: number | null } | { kind: 'fill'; sym: number; dt: number; side: 1 | -1; qty: number; px: number } | { kind: 'mark'; s: number; dt: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('row' as const), s: fc.nat(1), sym: fc.nat(2), dt: fc.integer({ min: 0, max: 700_000_000 }), mid: fc.option(fc.integer({ min: 9_000, max: 11_000 }).map((x) => x / 100 + 0.005)), rv: fc.option(fc.double({ min: 0.0001, max: 0.05, noNaN: true })) }),
  fc.record({ kind: fc.constant('fill' as const), sym: fc.nat(2), dt: fc.integer({ min: 0, max: 700_000_000 }), side: fc.constantFrom(1 as const, -1 as const), qty: fc.integer({ min: 1, max: 25 }), px: fc.integer({ min: 9_000, max: 11_000 }) }),
  fc.record({ kind: fc.constant('mark' as const), s: fc.integer({ min: 0, max: 2 }), dt: fc.integer({ min: 0, max: 700_000_000 }) }),
);

/** Feeds the steps (each stream's clock moves forward by its own dt) into a fold. */
function feeder() {
  const clocks = [10n * S, 10n * S, 10n * S];
  let seq = 0n;
  let id = 0;
  return (st: ReturnType<typeof initDesk>, x: Step, out: (o: DeskOutput) => void) => {
    if (x.kind === 'row') {
      clocks[x.s] += BigInt(x.dt);
      const row: DeskRow = { kind: 'row', ts: clocks[x.s], symbol: SYMS[x.sym], source: 'quote', seq: seq++, mark: x.mid, rv: x.rv };
      pushDeskRows(st, x.s, [row], out);
    } else if (x.kind === 'fill') {
      clocks[2] += BigInt(x.dt);
      const f = { fillId: `f${id++ % 40}`, account: 'a', strategy: x.sym === 2 ? 'mm' : 'tr', symbol: SYMS[x.sym], side: x.side, qty: x.qty, price: x.px, fee: 1000, orderId: '', tsEvent: clocks[2], tsRecv: clocks[2] };
      pushDeskFills(st, [{ kind: 'fill', ts: clocks[2], fill: f, tag: `t${id}` }], out);
    } else {
      clocks[x.s] += BigInt(x.dt);
      pushDeskWatermark(st, x.s, clocks[x.s], out);
    }
  };
}

const text = (os: DeskOutput[]) => os.map((o) => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : v)));

describe('desk checkpoint', () => {
  it('restored at any point, the fold goes on with exactly the outputs of the uninterrupted one', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), fc.nat(), (steps, cut) => {
        const k = cut % (steps.length + 1);
        const whole: DeskOutput[] = [];
        const a = initDesk(cfg);
        const fa = feeder();
        for (const x of steps) fa(a, x, (o) => whole.push(o));
        const b = initDesk(cfg);
        const fb = feeder();
        const before: DeskOutput[] = [];
        for (let i = 0; i < k; i++) fb(b, steps[i], (o) => before.push(o));
        const cur = { from: ['(1-0', '-'], fills: `(${k}-0` };
        const d = decodeDeskCheckpoint(cfg, encodeDeskCheckpoint(cfg, b, cur));
        if ('refused' in d) throw new Error(d.refused);
        expect(d.cur).toEqual(cur);
        expect(d.st.emitted).toBe(before.length);
        const rest: DeskOutput[] = [];
        for (let i = k; i < steps.length; i++) fb(d.st, steps[i], (o) => rest.push(o));
        const end = 1n << 62n;
        for (const [st, sink] of [[a, (o: DeskOutput) => whole.push(o)], [d.st, (o: DeskOutput) => rest.push(o)]] as const) for (let s = 0; s <= 2; s++) pushDeskWatermark(st, s, end, sink);
        expect(text([...before, ...rest])).toEqual(text(whole));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a checkpoint of another configuration, another number of shards or an unreadable one', () => {
    const st = initDesk(cfg);
    const bytes = encodeDeskCheckpoint(cfg, st, { from: ['-', '-'], fills: '-' });
    expect(decodeDeskCheckpoint({ ...cfg, ledger: { ...cfg.ledger, mark: 'last' } }, bytes)).toEqual({ refused: 'taken under another configuration (instruments, positions, limits, VaR or number of shards)' });
    expect(decodeDeskCheckpoint({ ...cfg, rowStreams: 3 }, bytes)).toMatchObject({ refused: expect.stringContaining('another configuration') });
    expect(decodeDeskCheckpoint(cfg, bytes.slice(0, 10))).toMatchObject({ refused: expect.stringMatching(/^unreadable/) });
    expect('st' in decodeDeskCheckpoint(cfg, bytes)).toBe(true);
  });

  it('holds the fill ids of the id window, not of the day: its size stays put as fills go on', () => {
    const c: DeskConfig = { ...cfg, ledger: { ...cfg.ledger, fillIdWindowNs: 60n * S }, limits: parseLimits({}, 'limits.json') };
    const st = initDesk(c);
    const sink = () => {};
    const sizes: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // one fill every 100 ms of event time: the window holds 600
      const ts = 10n * S + BigInt(i) * 100_000_000n;
      const f = { fillId: `fill-${i}`, account: 'a', strategy: 'mm', symbol: SYMS[i % 3], side: (i % 2 ? 1 : -1) as 1 | -1, qty: 1, price: 10_000, fee: 0, orderId: '', tsEvent: ts, tsRecv: ts };
      pushDeskFills(st, [{ kind: 'fill', ts, fill: f }], sink);
      for (let s = 0; s < 2; s++) pushDeskWatermark(st, s, ts + 1n, sink);
      if (i % 5000 === 4999) sizes.push(encodeDeskCheckpoint(c, st, { from: ['-', '-'], fills: '-' }).length);
    }
    expect(st.ledger.applied).toBe(20_000);
    expect(st.ledger.fillIds.size).toBeLessThanOrEqual(601);
    // a day's ids would grow it 4× from the first to the last; bounded, it moves by the queue's compaction only
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(1.5);
  });
});
