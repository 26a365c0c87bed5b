import { describe, expect, it } from 'vitest';
import type { MarketEvent, TradeEvent } from './events.ts';
import { defineDerivation } from './derivation.ts';
import { defineFactor, withParams } from './factor.ts';
import { tradeWindow } from './factors/trade-window.ts';
import { volumePower } from './factors/volume-power.ts';
import { applyEvent, createFactorSet, initFold } from './fold.ts';
import { eventCount } from './factors/event-count.ts';
import { lastPrice } from './factors/last-price.ts';

const DEFAULT_FACTORS = [lastPrice, eventCount];
import { cloneState } from './state-codec.ts';

const trade = (symbol: string, seq: number, price: number, t = seq): TradeEvent => ({
  kind: 'trade', tsEvent: BigInt(t), tsRecv: BigInt(t), symbol, seq: BigInt(seq), price, size: 1, side: 1,
});

function run(events: MarketEvent[], set = createFactorSet(DEFAULT_FACTORS)) {
  const st = initFold();
  const rows: string[] = [];
  for (const e of events) applyEvent(set, st, e, (ev, sym, values) => rows.push(`${sym}/${ev.kind}/${ev.seq}:${values.join(',')}`));
  return { st, rows };
}

describe('fold', () => {
  it('emits one row per applied event with the latest values of the symbol', () => {
    const { rows } = run([trade('A', 1, 10), trade('B', 1, 20), trade('A', 2, 11)]);
    expect(rows).toEqual(['A/trade/1:10,1', 'B/trade/1:20,1', 'A/trade/2:11,2']);
  });

  it('drops duplicate deliveries and counts them', () => {
    const { st, rows } = run([trade('A', 1, 10), trade('A', 1, 10), trade('A', 2, 11)]);
    expect(rows).toHaveLength(2);
    expect(st.stats.duplicates).toBe(1);
  });

  it('heartbeats visit symbols in sorted order and emit rows only where values change', () => {
    const ticks = defineFactor({
      name: 'ticks', version: 1, description: 'heartbeats seen', params: {}, rules: {}, inputs: ['heartbeat', 'trade'], warmup: 'none',
      init: () => ({ n: 0 }),
      update: (s, e) => (e.kind === 'heartbeat' ? ++s.n : s.n),
    });
    const set = createFactorSet([ticks]);
    const hb: MarketEvent = { kind: 'heartbeat', tsEvent: 5n, tsRecv: 5n, symbol: '', seq: 1n };
    const { rows } = run([trade('B', 1, 1), trade('A', 1, 1), hb], set);
    expect(rows).toEqual(['B/trade/1:0', 'A/trade/1:0', 'A/heartbeat/1:1', 'B/heartbeat/1:1']);
  });

  it('a snapshot taken mid-stream and restored continues identically', () => {
    const events = Array.from({ length: 50 }, (_, i) => trade(i % 3 === 0 ? 'A' : 'B', i + 1, 100 + i));
    const full = run(events).rows;
    const set = createFactorSet(DEFAULT_FACTORS);
    const st = initFold();
    const rows: string[] = [];
    const sink = (ev: MarketEvent, sym: string, values: readonly (number | null)[]) => rows.push(`${sym}/${ev.kind}/${ev.seq}:${values.join(',')}`);
    events.slice(0, 17).forEach((e) => applyEvent(set, st, e, sink));
    const restored = cloneState(st);
    events.slice(17).forEach((e) => applyEvent(set, restored, e, sink));
    expect(rows).toEqual(full);
  });

  it('rejects factor sets with clashing columns', () => {
    expect(() => createFactorSet([DEFAULT_FACTORS[0], DEFAULT_FACTORS[0]])).toThrow(/defined twice/);
  });

  it("derivation readers: 'fired' on fires, 'always' on every input, 'fired-or-market' on fires and market events", () => {
    // fires on trades at an even price, never on heartbeats except the one at ts 100
    const parity = defineDerivation<{ fired: number }>({
      name: 'parity', inputs: ['trade', 'heartbeat'], init: () => ({ fired: 0 }), source: [],
      update: (d, e) => ((e.kind === 'trade' && e.price % 2 === 0) || e.tsEvent === 100n ? ++d.fired > 0 : false),
    });
    const counter = (name: string, when: 'fired' | 'always' | 'fired-or-market') => defineFactor({
      name, version: 1, description: name, params: {}, rules: {}, inputs: ['trade', 'heartbeat'], warmup: 'none',
      derive: { from: parity, when }, init: () => ({ n: 0 }), update: (s) => ++s.n,
    });
    const set = createFactorSet([counter('on_fire', 'fired'), counter('on_all', 'always'), counter('on_market', 'fired-or-market')]);
    expect(set.derivations).toHaveLength(1);
    const hb = (seq: number, t: number): MarketEvent => ({ kind: 'heartbeat', tsEvent: BigInt(t), tsRecv: BigInt(t), symbol: '', seq: BigInt(seq) });
    const { rows } = run([trade('A', 1, 2), trade('A', 2, 3), hb(1, 50), hb(2, 100), trade('A', 3, 5)], set);
    // on_fire: trade 2, hb 100; on_all: every event; on_market: trades and hb 100 (the hb at 50 changes nothing: no row)
    expect(rows).toEqual(['A/trade/1:1,1,1', 'A/trade/2:1,2,2', 'A/heartbeat/1:1,3,2', 'A/heartbeat/2:2,4,3', 'A/trade/3:2,5,4']);
  });

  it('a derivation chosen by params is shared by factors with equal params, separate otherwise', () => {
    const set = createFactorSet([
      volumePower,
      withParams(volumePower, { seconds: 300 }),
      tradeWindow,
      withParams(tradeWindow, { stat: 'count' }),
      withParams(tradeWindow, { seconds: 300 }),
    ]);
    expect(set.derivations.map((d) => d.name)).toEqual(['trade_flow_60s', 'trade_flow_300s']);
    expect(set.derivationOf).toEqual([0, 1, 0, 0, 1]);
  });
});
