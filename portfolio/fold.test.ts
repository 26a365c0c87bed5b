/**
 * The weights fold: the same records whatever the interleaving of the shards' rows (each shard's
 * own order kept) and whatever the batch size; the records equal a naive recomputation (latest
 * row ts < T per symbol, then the book math); the grid follows the session; exclusions; purity.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bannedImports, CORE_RULES, impurities } from '../core/purity-scan.ts';
import type { WeightsConfig } from './config.ts';
import { initWeightsFold, pushRequest, pushRow, pushRows, pushWatermark, type WeightsRecord, type WeightsRow } from './fold.ts';
import { targetWeights } from './weights-math.ts';

const MIN = 60_000_000_000n;
// 2024-03-15 13:30Z, the us-equity open (09:30 New York, daylight time)
const OPEN = 1710509400_000_000_000n;

const baseCfg = (o: Partial<WeightsConfig> = {}): WeightsConfig => ({
  signal: 'sig',
  method: 'zscore',
  zClip: 3,
  construction: 'dollar-neutral',
  maxWeight: 0.3,
  grossLeverage: 1,
  vol: { column: 'vol', inverse: true, target: null },
  turnoverLimit: 0.8,
  everyNs: 5n * MIN,
  session: 'us-equity',
  staleNs: 4n * MIN,
  killedColumn: 'killed',
  haltedColumn: null,
  universe: 'all',
  time: 'ts_recv',
  ...o,
});

interface Tagged {
  shard: number;
  row: WeightsRow | null;
  /** a heartbeat (row null) or a request */
  ts: bigint;
  request?: boolean;
}

const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];

/** Per-shard sequences: rows of the shard's symbols at non-decreasing times, heartbeats between. */
const shardsArb = fc.integer({ min: 1, max: 3 }).chain((k) =>
  fc
    .array(
      fc.record({
        symbol: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
        dt: fc.oneof(fc.constant(0n), fc.integer({ min: 1, max: 180 }).map((sec) => BigInt(sec) * 1_000_000_000n)),
        sig: fc.option(fc.double({ min: -5, max: 5, noNaN: true }), { nil: null, freq: 8 }),
        vol: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: null, freq: 12 }),
        killed: fc.integer({ min: 0, max: 15 }).map((x) => (x === 0 ? 1 : 0)),
        beat: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
        request: fc.integer({ min: 0, max: 20 }).map((x) => x === 0),
      }),
      { minLength: 10, maxLength: 120 },
    )
    .map((steps) => {
      // one global clock, each step owned by the shard of its symbol (heartbeats go to every shard)
      const seqs: Tagged[][] = Array.from({ length: k }, () => []);
      let t = OPEN - 2n * MIN;
      for (const s of steps) {
        t += s.dt;
        const sym = SYMBOLS[s.symbol];
        const shard = s.symbol % k;
        if (s.beat) for (const q of seqs) q.push({ shard: -1, row: null, ts: t });
        else if (s.request) seqs[0].push({ shard: 0, row: null, ts: t, request: true });
        else seqs[shard].push({ shard, row: { symbol: sym, ts: t, values: [s.sig, s.vol, s.killed] }, ts: t });
      }
      // a closing heartbeat on every shard, as the feed sends: every pending T passes
      for (const q of seqs) q.push({ shard: -1, row: null, ts: t + 30n * MIN });
      return seqs;
    }),
);

function run(cfg: WeightsConfig, seqs: Tagged[][], order: number[], batch: number): WeightsRecord[] {
  const st = initWeightsFold(cfg, seqs.length);
  const out: WeightsRecord[] = [];
  const sink = (r: WeightsRecord) => out.push(r);
  const pos = seqs.map(() => 0);
  for (const pick of order) {
    const s = pick % seqs.length;
    // take up to `batch` consecutive rows of shard s in one call
    const rows: WeightsRow[] = [];
    const flush = () => {
      if (rows.length) pushRows(st, s, rows.splice(0), sink);
    };
    for (let n = 0; n < batch && pos[s] < seqs[s].length; n++) {
      const e = seqs[s][pos[s]++];
      if (e.row) rows.push(e.row);
      else {
        flush();
        if (e.request) pushRequest(st, s, e.ts, sink);
        else pushWatermark(st, s, e.ts, sink);
      }
    }
    flush();
  }
  // whatever the order did not reach, in shard order
  for (let s = 0; s < seqs.length; s++)
    for (; pos[s] < seqs[s].length; pos[s]++) {
      const e = seqs[s][pos[s]];
      if (e.row) pushRow(st, s, e.row, sink);
      else if (e.request) pushRequest(st, s, e.ts, sink);
      else pushWatermark(st, s, e.ts, sink);
    }
  return out;
}

/** The records as plain comparable data (Float64Array bits as numbers: toEqual compares with Object.is). */
const plain = (rs: WeightsRecord[]) => rs.map((r) => ({ ...r, weights: [...r.weights] }));

const cfgArb = fc.record({
  method: fc.constantFrom('rank' as const, 'zscore' as const),
  construction: fc.constantFrom('long-only' as const, 'dollar-neutral' as const),
  turnoverLimit: fc.option(fc.double({ min: 0.05, max: 2, noNaN: true }), { nil: null }),
  target: fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: null }),
  universe: fc.constantFrom<'all' | string[]>('all', ['A', 'C', 'E', 'Z']),
});
const makeCfg = (c: typeof cfgArb extends fc.Arbitrary<infer U> ? U : never) =>
  baseCfg({ method: c.method, construction: c.construction, turnoverLimit: c.turnoverLimit, universe: c.universe, vol: { column: 'vol', inverse: true, target: c.target } });

describe('weights fold', () => {
  it('gives identical records whatever the interleaving of shards and the batch size', () => {
    let records = 0;
    let held = 0;
    fc.assert(
      fc.property(cfgArb, shardsArb, fc.array(fc.nat(), { maxLength: 400 }), fc.array(fc.nat(), { maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (c, seqs, o1, o2, batch) => {
        const cfg = makeCfg(c);
        const a = run(cfg, seqs, o1, 1);
        const b = run(cfg, seqs, o2, batch);
        expect(plain(b)).toEqual(plain(a));
        records += a.length;
        for (const r of a) held += r.weights.filter((x) => x !== 0).length;
      }),
      { numRuns: 150 },
    );
    // the cases are not vacuous: rebalances ran and held positions
    expect(records).toBeGreaterThan(300);
    expect(held).toBeGreaterThan(300);
  });

  it('equals a naive recomputation: the latest row ts < T of each symbol, then the book math', () => {
    fc.assert(
      fc.property(cfgArb, shardsArb, fc.array(fc.nat(), { maxLength: 300 }), (c, seqs, order) => {
        const cfg = makeCfg(c);
        const recs = run(cfg, seqs, order, 7);
        const rows = seqs.flat().filter((e) => e.row).map((e) => e.row!);
        let prev = new Map<string, number>();
        for (const r of recs) {
          const latest = new Map<string, WeightsRow>();
          // rows of one symbol are in their shard's order, so the last one with ts < T wins
          for (const x of rows) if (x.ts < r.t) latest.set(x.symbol, x);
          const syms = cfg.universe === 'all' ? [...latest.keys()].sort() : [...cfg.universe];
          expect(r.symbols).toEqual(syms);
          const n = syms.length;
          const sig = new Float64Array(n);
          const vol = new Float64Array(n);
          const ok = new Uint8Array(n);
          const p = new Float64Array(n);
          syms.forEach((s, i) => {
            p[i] = prev.get(s) ?? 0;
            const l = latest.get(s);
            const [x, v, k] = l?.values ?? [];
            const why = !l ? 'no-data' : k ? 'killed' : r.t - l.ts > cfg.staleNs! ? 'stale' : x === null ? 'no-signal' : v === null ? 'no-vol' : null;
            expect(r.excluded[i]).toBe(why);
            if (why === null) [sig[i], vol[i], ok[i]] = [x!, v!, 1];
          });
          const w = new Float64Array(n);
          targetWeights(initWeightsFold(cfg, 1).spec, sig, vol, ok, p, w);
          expect([...r.weights]).toEqual([...w]);
          prev = new Map(syms.map((s, i) => [s, w[i]]));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rebalances every 5 minutes from the session open, once a signal row is in session, until the close', () => {
    const cfg = baseCfg({ vol: null, killedColumn: null, turnoverLimit: null, staleNs: null });
    const st = initWeightsFold(cfg, 1);
    const out: WeightsRecord[] = [];
    // a row before the open activates nothing; one at 13:41Z starts the grid at 13:45Z (a row at
    // 13:45Z itself would start it at 13:50Z: a rebalance at T uses the rows before T)
    pushRow(st, 0, { symbol: 'A', ts: OPEN - MIN, values: [1] }, (r) => out.push(r));
    pushRow(st, 0, { symbol: 'B', ts: OPEN + 11n * MIN, values: [2] }, (r) => out.push(r));
    pushWatermark(st, 0, OPEN + 7n * 60n * MIN, (r) => out.push(r));
    expect(out.length).toBe((390 - 15) / 5 + 1);
    expect(out[0].t).toBe(OPEN + 15n * MIN);
    expect(out.at(-1)!.t).toBe(OPEN + 390n * MIN); // 16:00 New York
    expect(out[0].symbols).toEqual(['A', 'B']);
    expect([...out[0].weights]).toEqual([-0.3, 0.3]);
  });

  it('holds a rebalance until every stream reaches T, and rows at or after T back', () => {
    const cfg = baseCfg({ vol: null, killedColumn: null, turnoverLimit: null, staleNs: null, everyNs: null });
    const st = initWeightsFold(cfg, 2);
    const out: WeightsRecord[] = [];
    const sink = (r: WeightsRecord) => out.push(r);
    pushRow(st, 0, { symbol: 'A', ts: OPEN - 2n, values: [1] }, sink);
    pushRequest(st, 0, OPEN, sink);
    pushRow(st, 0, { symbol: 'A', ts: OPEN - 5n, values: [7] }, sink); // late: counts at OPEN, so not at T
    pushRow(st, 1, { symbol: 'B', ts: OPEN - 1n, values: [2] }, sink);
    expect(out).toEqual([]); // stream 1 has not reached T
    pushRow(st, 1, { symbol: 'B', ts: OPEN, values: [-9] }, sink); // at T: after T's book
    expect(out.map((r) => [r.t, r.trigger, r.signal])).toEqual([[OPEN, 'request', [1, 2]]]);
  });

  it('a heartbeat at T releases T (it sorts before the events of its instant)', () => {
    const cfg = baseCfg({ vol: null, killedColumn: null, turnoverLimit: null, staleNs: null });
    const st = initWeightsFold(cfg, 2);
    const out: WeightsRecord[] = [];
    pushRow(st, 0, { symbol: 'A', ts: OPEN + 1n, values: [1] }, (r) => out.push(r));
    pushRow(st, 1, { symbol: 'B', ts: OPEN + 2n, values: [2] }, (r) => out.push(r));
    pushWatermark(st, 0, OPEN + 5n * MIN, (r) => out.push(r));
    expect(out).toEqual([]);
    pushWatermark(st, 1, OPEN + 5n * MIN, (r) => out.push(r));
    expect(out.map((r) => r.t)).toEqual([OPEN + 5n * MIN]);
  });

  it('pure: no clock, randomness, timers, promises or I/O in the fold, its math and its checkpoint', () => {
    for (const f of ['fold.ts', 'weights-math.ts', 'schedule.ts', 'checkpoint.ts']) {
      const src = readFileSync(new URL(f, import.meta.url), 'utf8');
      expect([...impurities(src, CORE_RULES), ...bannedImports(src)], f).toEqual([]);
    }
  });
});
