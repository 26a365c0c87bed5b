import { describe, expect, it } from 'vitest';
import type { MarketEvent, TradeEvent } from './events.ts';
import { defineFactor } from './factor.ts';
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
});
