/**
 * The weights checkpoint without Redis: a weights fold of 1-3 shards checkpointed at any point of
 * a random interleaving (rows still queued in the merge, requests pending, kill-switch changes in
 * force and pending, the grid mid-session,
 * weights held, NaN and -0 values) encodes to bytes that decode and encode again to the same
 * bytes, and the restored fold continues with exactly the records of the uninterrupted one; a
 * checkpoint of another configuration, shard count or version, or a damaged one, is refused, saying why.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../core/state-codec.ts';
import { decodeWeightsCheckpoint, encodeWeightsCheckpoint } from './checkpoint.ts';
import type { WeightsConfig } from './config.ts';
import { initWeightsFold, pushControl, pushRequest, pushRows, pushWatermark, type WeightsFoldState, type WeightsRecord } from './fold.ts';

const MIN = 60_000_000_000n;
// 2024-03-15 13:30Z, the us-equity open
const OPEN = 1710509400_000_000_000n;
const SYMS = ['A', 'B', 'C', 'D', 'E'];

const cfg = (o: Partial<WeightsConfig> = {}): WeightsConfig => ({
  signal: 'sig',
  method: 'zscore',
  zClip: 3,
  construction: 'dollar-neutral',
  maxWeight: 0.4,
  grossLeverage: 1,
  vol: { column: 'vol', inverse: true, target: null },
  turnoverLimit: 0.7,
  everyNs: 2n * MIN,
  session: 'us-equity',
  staleNs: 5n * MIN,
  killedColumn: 'killed',
  haltedColumn: null,
  universe: 'all',
  time: 'ts_recv',
  ...o,
});

type Step =
  | { kind: 'row'; s: number; sym: number; dt: number; sig: number | null; vol: number | null; killed: number }
  | { kind: 'mark'; s: number; dt: number }
  | { kind: 'request'; s: number; dt: number }
  | { kind: 'ask'; s: number; dt: number; ahead: number }
  | { kind: 'kill'; s: number; dt: number; sym: number; mode: 'off' | 'halt' | 'reduce-only' };
const dt = fc.integer({ min: 0, max: 90 });
const step = (k: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('row' as const), s: fc.nat(k - 1), sym: fc.nat(SYMS.length - 1), dt, sig: fc.option(fc.oneof(fc.double({ min: -4, max: 4 }), fc.constant(-0)), { freq: 6 }), vol: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { freq: 10 }), killed: fc.integer({ min: 0, max: 12 }).map((x) => (x === 0 ? 1 : 0)) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('mark' as const), s: fc.nat(k - 1), dt }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('request' as const), s: fc.nat(k - 1), dt }) },
    // control events (requests for later times, kill-switch changes: sym past the names is 'all')
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ask' as const), s: fc.nat(k - 1), dt, ahead: fc.integer({ min: -60, max: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), s: fc.nat(k - 1), dt, sym: fc.nat(SYMS.length), mode: fc.constantFrom('off' as const, 'halt' as const, 'reduce-only' as const) }) },
  );

/** Feeds steps into a fold; each shard's clock moves forward by its own dt (seconds). */
function feeder(k: number) {
  const clocks = new Array<bigint>(k).fill(OPEN - MIN);
  return (st: WeightsFoldState, x: Step, out: (r: WeightsRecord) => void) => {
    clocks[x.s] += BigInt(x.dt) * 1_000_000_000n;
    const ts = clocks[x.s];
    if (x.kind === 'row') pushRows(st, x.s, [{ symbol: SYMS[x.sym], ts, values: [x.sig, x.vol, x.killed] }], out);
    else if (x.kind === 'mark') pushWatermark(st, x.s, ts, out);
    else if (x.kind === 'ask') pushControl(st, x.s, { kind: 'request', ts: ts + BigInt(x.ahead) * 1_000_000_000n }, out);
    else if (x.kind === 'kill') pushControl(st, x.s, { kind: 'kill', ts, symbol: x.sym < SYMS.length ? SYMS[x.sym] : null, mode: x.mode }, out);
    else pushRequest(st, x.s, ts, out);
  };
}

const plain = (rs: WeightsRecord[]) => rs.map((r) => ({ ...r, weights: [...r.weights] }));
const scenario = fc.integer({ min: 1, max: 3 }).chain((k) => fc.tuple(fc.constant(k), fc.array(step(k), { minLength: 1, maxLength: 150 }), fc.nat(), fc.constantFrom<'all' | string[]>('all', ['A', 'C', 'Z'])));

describe('weights checkpoint', () => {
  it('round-trips exactly and, restored at any point, the fold goes on with the records of the uninterrupted one', () => {
    let restoredRecords = 0;
    let queuedAtCut = 0;
    let killsAtCut = 0;
    fc.assert(
      fc.property(scenario, ([k, steps, cut, universe]) => {
        const c = cfg({ universe });
        const at = cut % (steps.length + 1);
        const whole: WeightsRecord[] = [];
        const a = initWeightsFold(c, k);
        const fa = feeder(k);
        for (const x of steps) fa(a, x, (r) => whole.push(r));
        const b = initWeightsFold(c, k);
        const fb = feeder(k);
        const out: WeightsRecord[] = [];
        for (let i = 0; i < at; i++) fb(b, steps[i], (r) => out.push(r));
        const from = Array.from({ length: k }, (_, s) => (s === 0 ? '-' : `(${at}-${s})`));
        const bytes = encodeWeightsCheckpoint(b, from, `(${at}-7`, at % 2 === 0 ? null : `${at}-3`);
        const d = decodeWeightsCheckpoint(c, k, bytes);
        if ('refused' in d) throw new Error(d.refused);
        // exact: the restored state encodes to the same bytes
        expect(encodeWeightsCheckpoint(d.st, d.from, d.asked, d.changes)).toEqual(bytes);
        expect(d.from).toEqual(from);
        expect(d.asked).toBe(`(${at}-7`);
        expect(d.changes).toBe(at % 2 === 0 ? null : `${at}-3`);
        queuedAtCut += d.st.queues.reduce((n, q) => n + q.rows.length, 0);
        killsAtCut += d.st.kills.length + d.st.kill.symbols.size + (d.st.kill.all === 'off' ? 0 : 1);
        for (let i = at; i < steps.length; i++) fb(d.st, steps[i], (r) => out.push(r));
        // every pending rebalance passes: the two folds must agree to the end
        const end = OPEN + 600n * MIN;
        for (let s = 0; s < k; s++) {
          pushWatermark(a, s, end, (r) => whole.push(r));
          pushWatermark(d.st, s, end, (r) => out.push(r));
        }
        expect(plain(out)).toEqual(plain(whole));
        restoredRecords += whole.length;
      }),
      { numRuns: 200 },
    );
    // the property met real records and checkpoints with rows still queued
    expect(restoredRecords).toBeGreaterThan(500);
    expect(queuedAtCut).toBeGreaterThan(50);
    expect(killsAtCut).toBeGreaterThan(15); // 44–100+ over 200 random runs: a floor, not a typical count
  });

  it('keeps -0, NaN and bigints bit for bit', () => {
    const st = initWeightsFold(cfg(), 2);
    pushRows(st, 0, [{ symbol: 'A', ts: OPEN + 1n, values: [-0, NaN, 0] }], () => {});
    st.prev.set('B', -0);
    const d = decodeWeightsCheckpoint(cfg(), 2, encodeWeightsCheckpoint(st, ['(1-0', '-']));
    if ('refused' in d) throw new Error(d.refused);
    expect(Object.is(d.st.prev.get('B'), -0)).toBe(true);
    expect(Object.is(d.st.queues[0].rows[0].values[0], -0)).toBe(true);
    expect(d.st.queues[0].rows[0].values[1]).toBeNaN();
    expect(d.st.queues[0].rows[0].ts).toBe(OPEN + 1n);
  });

  it('refuses a checkpoint of another configuration, number of shards or version, or a damaged one', () => {
    const st = initWeightsFold(cfg(), 2);
    const bytes = encodeWeightsCheckpoint(st, ['-', '-']);
    expect(decodeWeightsCheckpoint(cfg({ maxWeight: 0.2 }), 2, bytes)).toEqual({ refused: 'taken under another weights configuration' });
    expect(decodeWeightsCheckpoint(cfg({ universe: ['A'] }), 2, bytes)).toEqual({ refused: 'taken under another weights configuration' });
    expect(decodeWeightsCheckpoint(cfg(), 3, bytes)).toEqual({ refused: 'taken with 2 input streams, the driver reads 3' });
    expect(decodeWeightsCheckpoint(cfg(), 2, bytes.slice(0, 12))).toMatchObject({ refused: expect.stringMatching(/^unreadable/) });
    expect(decodeWeightsCheckpoint(cfg(), 2, encodeState({ v: 99 }))).toEqual({ refused: 'version 99, this build reads 2' });
    expect('st' in decodeWeightsCheckpoint(cfg(), 2, bytes)).toBe(true);
  });

  it('a checkpoint from before the kill switch\'s changes stream (no position) restores, the position unknown', () => {
    const st = initWeightsFold(cfg(), 2);
    const d = decodeState<Record<string, unknown>>(encodeWeightsCheckpoint(st, ['-', '-'], '(3-0', '5-0'));
    delete d.changes;
    const old = decodeWeightsCheckpoint(cfg(), 2, encodeState(d));
    if ('refused' in old) throw new Error(old.refused);
    expect([old.asked, old.changes]).toEqual(['(3-0', null]);
  });
});
