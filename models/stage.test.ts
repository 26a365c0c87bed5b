import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { HeartbeatEvent, MarketEvent, TradeEvent } from '../core/events.ts';
import { eventCount } from '../core/factors/event-count.ts';
import { lastPrice } from '../core/factors/last-price.ts';
import { applyEvent, createFactorSet, initFold, type FoldState } from '../core/fold.ts';
import { featureSetVersion } from '../core/registry.ts';
import { decodeState, encodeState } from '../core/state-codec.ts';
import { inCanary, type DeploymentEntry } from './deployment.ts';
import { linearEvaluator } from './linear.ts';
import { runnableModel, MODEL_STATUS } from './model.ts';
import { parseModelSpec, type ModelSpec } from './spec.ts';
import { createSlotStage, slotColumns } from './stage.ts';

const S = 1_000_000_000n;
const trade = (symbol: string, seq: number, price: number, t: bigint): TradeEvent => ({
  kind: 'trade', tsEvent: t, tsRecv: t, symbol, seq: BigInt(seq), price, size: 1, side: 1,
});
const heartbeat = (seq: number, t: bigint): HeartbeatEvent => ({ kind: 'heartbeat', tsEvent: t, tsRecv: t, symbol: '', seq: BigInt(seq) }) as HeartbeatEvent;

const spec = (version: number, coef: number[], extra: Record<string, unknown> = {}): ModelSpec =>
  parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version, kind: 'logistic', inputs: ['last_price', 'event_count'], standardize: { mean: [100, 5], std: [2, 3] }, clip: [-3, 3], coef, intercept: 0.1, ...extra }), 'momo.json');
const model = (s: ModelSpec) => runnableModel(s, linearEvaluator(s));

/** The logistic score, computed here from the spec by hand (the independent check). */
function expected(s: ModelSpec, price: number, count: number): { score: number; prob: number } {
  const z = [price, count].map((x, i) => Math.min(3, Math.max(-3, (x - s.standardize!.mean[i]) / s.standardize!.std[i])));
  let score = s.intercept;
  for (let i = 0; i < 2; i++) score += s.coef![i] * z[i];
  return { score, prob: 1 / (1 + Math.exp(-score)) };
}

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH'];
function day(n: number): MarketEvent[] {
  const evs: MarketEvent[] = [];
  const seq = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const sym = SYMBOLS[(i * 7) % SYMBOLS.length];
    const q = (seq.get(sym) ?? 0) + 1;
    seq.set(sym, q);
    evs.push(trade(sym, q, 100 + Math.sin(i) * 3, BigInt(i + 1) * S));
  }
  return evs;
}

type Row = { symbol: string; values: (number | null)[] };
function fold(events: readonly MarketEvent[], log: DeploymentEntry[], versions = [spec(1, [0.5, -0.2]), spec(2, [-0.4, 0.3])], restartAt = -1): { rows: Row[]; columns: readonly string[] } {
  const make = () => createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', versions.map(model), log)] });
  let set = make();
  let st: FoldState = initFold();
  const rows: Row[] = [];
  events.forEach((ev, i) => {
    if (i === restartAt) {
      // a restart: the state goes through its checkpoint bytes, the stage is built anew
      st = decodeState<FoldState>(encodeState(st));
      set = make();
    }
    applyEvent(set, st, ev, (_e, symbol, values) => rows.push({ symbol, values: [...values] }));
  });
  return { rows, columns: set.columns };
}

describe('model slots in the fold', () => {
  it('writes signals after the factors of the same event, computed from that row', () => {
    const log: DeploymentEntry[] = [{ at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' }];
    const { rows, columns } = fold(day(40), log);
    expect(columns).toEqual(['last_price', 'event_count', ...slotColumns('momo', ['score', 'prob'])]);
    const v1 = spec(1, [0.5, -0.2]);
    for (const r of rows) {
      const e = expected(v1, r.values[0]!, r.values[1]!);
      expect(r.values[2]).toBe(e.score);
      expect(r.values[3]).toBe(e.prob);
      // served: version, status; unserved: score, prob, version, status (none deployed)
      expect(r.values.slice(4, 10)).toEqual([1, MODEL_STATUS.ok, null, null, null, MODEL_STATUS.undeployed]);
    }
  });

  it('follows the deployment log in event time: canary by stable symbol hash, then rollback', () => {
    const log: DeploymentEntry[] = [
      { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' },
      { at: 10n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 },
      { at: 30n * S, slot: 'momo', action: 'rollback', reason: 'test' },
    ];
    const events = day(40);
    const { rows } = fold(events, log);
    const canary = SYMBOLS.filter((s) => inCanary('momo', s, 50));
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.length).toBeLessThan(SYMBOLS.length);
    rows.forEach((r, i) => {
      const t = events[i].tsRecv;
      const inWindow = t >= 10n * S && t < 30n * S;
      const served = inWindow && canary.includes(r.symbol) ? 2 : 1;
      expect(r.values[4], `row ${i} ${r.symbol}`).toBe(served);
      expect(r.values[8]).toBe(inWindow ? 3 - served : null);
      expect(r.values[9]).toBe(inWindow ? MODEL_STATUS.ok : MODEL_STATUS.undeployed);
      const e = expected(spec(served, served === 1 ? [0.5, -0.2] : [-0.4, 0.3]), r.values[0]!, r.values[1]!);
      expect(r.values[2]).toBe(e.score);
    });
  });

  it('restart through a checkpoint gives the same rows', () => {
    const log: DeploymentEntry[] = [
      { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' },
      { at: 15n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'shadow' },
      { at: 25n * S, slot: 'momo', action: 'promote' },
    ];
    const events = day(60);
    const whole = fold(events, log).rows;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: events.length - 1 }), (at) => {
        expect(fold(events, log, undefined, at).rows).toEqual(whole);
      }),
      { numRuns: 20 },
    );
  });

  it('a missing input gives null signals with status missing; the mean policy imputes', () => {
    const s = parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'linear', inputs: ['last_price', 'event_count'], coef: [1, 1] }), 'm.json');
    const out = new Float64Array(1);
    expect(model(s).run(Float64Array.of(NaN, 1), out)).toBe(MODEL_STATUS.missing);
    const m = parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'linear', inputs: ['last_price', 'event_count'], coef: [1, 1], missing: 'mean', standardize: { mean: [3, 0], std: [1, 1] } }), 'm.json');
    expect(model(m).run(Float64Array.of(NaN, 2), out)).toBe(MODEL_STATUS.ok);
    expect(out[0]).toBe(2);
  });

  it('a model that throws or returns NaN gives null signals with status error, and the fold goes on', () => {
    const s = spec(1, [1, 1]);
    const bad = runnableModel(s, { inputCount: 2, outputs: ['score', 'prob'], evaluate: (x, out) => { if (x[0] > 0) throw new Error('boom'); out[0] = NaN; out[1] = 0; } });
    const set = createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', [bad], [{ at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' }])] });
    const st = initFold();
    const rows: (number | null)[][] = [];
    for (const ev of day(5)) applyEvent(set, st, ev, (_e, _s, v) => rows.push([...v]));
    expect(rows).toHaveLength(5);
    for (const r of rows) expect(r.slice(2, 6)).toEqual([null, null, 1, MODEL_STATUS.error]);
  });

  it('the unserved side has its own status: a failing shadow beside a served version that works', () => {
    const good = model(spec(1, [0.5, -0.2]));
    // version 2 throws on one symbol's rows and returns NaN on another's: error both ways
    const bad = runnableModel(spec(2, [1, 1]), {
      inputCount: 2,
      outputs: ['score', 'prob'],
      evaluate: (x, out) => {
        if (x[1] > 0.5) throw new Error('boom');
        out[0] = NaN;
        out[1] = 0;
      },
    });
    const log: DeploymentEntry[] = [
      { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' },
      { at: 10n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'shadow' },
      { at: 20n * S, slot: 'momo', action: 'rollback', reason: 'test' },
    ];
    const set = createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', [good, bad], log)] });
    const st = initFold();
    const rows: { t: bigint; v: (number | null)[] }[] = [];
    for (const ev of day(30)) applyEvent(set, st, ev, (e, _s, v) => rows.push({ t: e.tsRecv, v: [...v] }));
    for (const { t, v } of rows) {
      const shadow = t >= 10n * S && t < 20n * S;
      // the served side is untouched by the shadow's failures
      expect(v.slice(4, 6)).toEqual([1, MODEL_STATUS.ok]);
      expect(v[2]).not.toBeNull();
      expect(v.slice(6, 10)).toEqual(shadow ? [null, null, 2, MODEL_STATUS.error] : [null, null, null, MODEL_STATUS.undeployed]);
    }
    expect(rows.filter((r) => r.t >= 10n * S && r.t < 20n * S).length).toBeGreaterThan(0);
  });

  it('bar and every triggers evaluate once per interval, heartbeats included', () => {
    const every = spec(1, [0.5, -0.2], { trigger: 'every:10s' });
    const set = createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', [model(every)], [{ at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' }])] });
    const st = initFold();
    const seen: { t: bigint; sym: string; score: number | null }[] = [];
    const evs: MarketEvent[] = [trade('AAA', 1, 100, 1n * S), trade('AAA', 2, 101, 5n * S), trade('AAA', 3, 102, 12n * S), trade('AAA', 4, 103, 15n * S), heartbeat(1, 25n * S), trade('AAA', 5, 104, 26n * S)];
    for (const ev of evs) applyEvent(set, st, ev, (e, sym, v) => seen.push({ t: e.tsRecv, sym, score: v[2] }));
    // 1 s: the deploy applies, evaluates (100, 1 event); 5 s: same 10 s interval, kept; 12 s: next
    // interval, evaluates (102, 3); 15 s: kept; the 25 s heartbeat opens an interval and evaluates
    // (103, 4), a changed value, so it emits a row; 26 s: same interval, kept
    const e = (p: number, n: number) => expected(every, p, n).score;
    expect(seen.map((r) => r.score)).toEqual([e(100, 1), e(100, 1), e(102, 3), e(102, 3), e(103, 4), e(103, 4)]);
    expect(seen.map((r) => r.t)).toEqual([1n, 5n, 12n, 15n, 25n, 26n].map((x) => x * S));

    // a state from a checkpoint written before the interval bounds were cached (no lo/hi): the
    // same rows, the bounds computed again at the next event
    const set2 = createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', [model(every)], [{ at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' }])] });
    let st2 = initFold();
    const again: (number | null)[] = [];
    evs.forEach((ev, i) => {
      if (i === 2) {
        const old = decodeState<FoldState>(encodeState(st2));
        for (const sym of old.bySymbol.values()) for (const g of sym.stages ?? []) {
          delete (g as Record<string, unknown>).lo;
          delete (g as Record<string, unknown>).hi;
        }
        st2 = old;
      }
      applyEvent(set2, st2, ev, (_e, _s, v) => again.push(v[2]));
    });
    expect(again).toEqual(seen.map((r) => r.score));
  });

  it('the feature-set version covers the slots, and is unchanged for a set without them', () => {
    const plain = featureSetVersion([lastPrice, eventCount]);
    expect(featureSetVersion([lastPrice, eventCount], undefined, [])).toBe(plain);
    const stage = createSlotStage('momo', [model(spec(1, [1, 1]))], []);
    expect(featureSetVersion([lastPrice, eventCount], undefined, [stage])).not.toBe(plain);
  });

  it('refuses a slot reading a column nobody writes, and versions with other outputs', () => {
    const s = parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'linear', inputs: ['nope'], coef: [1] }), 'm.json');
    expect(() => createFactorSet([lastPrice], { stages: [createSlotStage('momo', [model(s)], [])] })).toThrow(/reads column nope/);
    const lin = parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version: 2, kind: 'linear', inputs: ['last_price'], coef: [1] }), 'm.json');
    expect(() => createSlotStage('momo', [model(spec(1, [1, 1])), model(lin)], [])).toThrow(/share their outputs/);
  });
});

describe('model file', () => {
  it.each([
    ['{', /not valid JSON/],
    ['{"lockstep_model":1,"name":"Bad","version":1,"kind":"linear","inputs":["a"],"coef":[1]}', /field name/],
    ['{"lockstep_model":1,"name":"m","version":0,"kind":"linear","inputs":["a"],"coef":[1]}', /field version/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"tree","inputs":["a"],"coef":[1]}', /field kind/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"linear","inputs":["a"],"coef":[1,2]}', /field coef: must be a list of 1/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"linear","inputs":["a"],"coef":[1],"standardize":{"mean":[0],"std":[0]}}', /standardize.std\[0\]: 0 must be > 0/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"linear","inputs":["a"],"coef":[1],"trigger":"bar:1x"}', /field trigger/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"linear","inputs":["a"],"coef":[1],"missing":"mean"}', /needs standardize/],
    ['{"lockstep_model":1,"name":"m","version":1,"kind":"onnx","inputs":["a"]}', /field onnx/],
  ])('%s is refused naming the field', (text, why) => {
    expect(() => parseModelSpec(text, 'model.json')).toThrow(why);
    expect(() => parseModelSpec(text, 'model.json')).toThrow(/^model\.json: /);
  });
});
