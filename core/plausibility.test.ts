import { describe, expect, it } from 'vitest';
import type { HeartbeatEvent, MarketEvent, TradeEvent } from './events.ts';
import { lastPrice } from './factors/last-price.ts';
import { eventCount } from './factors/event-count.ts';
import { applyEvent, createFactorSet, initFold } from './fold.ts';
import { validateEvent } from './validate-event.ts';

const S = 1_000_000_000n;
const T0 = 1_710_460_800n * S; // 2024-03-15
const Y2100 = 4_102_444_800n * S;
const trade = (seq: bigint, t: bigint, over: Partial<TradeEvent> = {}): TradeEvent => ({ kind: 'trade', tsEvent: t, tsRecv: t, symbol: 'A', seq, price: 10, size: 1, side: 1, ...over });
const hb = (seq: bigint, te: bigint, tr = te): HeartbeatEvent => ({ kind: 'heartbeat', tsEvent: te, tsRecv: tr, symbol: '', seq });

function fold(events: MarketEvent[]) {
  const set = createFactorSet([lastPrice, eventCount]);
  const st = initFold();
  const rows: string[] = [];
  const verdicts = events.map((e) => {
    const p = validateEvent(e);
    if (p) return `invalid ${p.field}`;
    return applyEvent(set, st, e, (ev, sym) => rows.push(`${sym}/${ev.kind}/${ev.seq}`));
  });
  return { st, rows, verdicts };
}

describe('plausibility rule (hostile but well-formed events)', () => {
  it('a sequence number 10^15 ahead is rejected with its reason; the rest of the source is applied', () => {
    const { st, rows, verdicts } = fold([trade(1n, T0), trade(10n ** 15n, T0 + 1n), trade(2n, T0 + 2n), trade(3n, T0 + 3n)]);
    expect(verdicts).toEqual(['next', 'implausible', 'next', 'next']);
    expect(rows).toEqual(['A/trade/1', 'A/trade/2', 'A/trade/3']);
    expect(st.stats.rejected).toBe(1);
    expect(st.rejection).toEqual({ field: 'seq', value: 10n ** 15n, reason: "jumps more than 1000000000 ahead of the source's last sequence number 1" });
  });

  it('a first event of a source 10^15 ahead (judged against nothing) does not turn the rest of the day into duplicates', () => {
    const { rows, verdicts } = fold([trade(10n ** 15n, T0), trade(1n, T0 + 1n), trade(2n, T0 + 2n), trade(2n, T0 + 3n)]);
    expect(verdicts).toEqual(['next', 'next', 'next', 'duplicate']);
    expect(rows).toEqual(['A/trade/1000000000000000', 'A/trade/1', 'A/trade/2']);
  });

  it('a heartbeat dated 2100 cannot move the bar clocks: its ts_event is more than a day after its ts_recv', () => {
    const { rows, verdicts } = fold([trade(1n, T0), hb(1n, Y2100, T0 + 1n), trade(2n, T0 + 5n)]);
    expect(verdicts).toEqual(['next', 'invalid ts_event', 'next']);
    expect(rows).toEqual(['A/trade/1', 'A/trade/2']);
  });

  it('an event time more than a day after its own ts_recv, and absurd magnitudes, are invalid', () => {
    expect(validateEvent(hb(1n, Y2100, T0))).toMatchObject({ field: 'ts_event', value: Y2100 });
    expect(validateEvent(trade(1n, T0, { price: 1e308 }))).toEqual({ field: 'price', value: 1e308, reason: 'must be a finite number of magnitude < 1000000000000000' });
    expect(validateEvent(trade(1n, T0, { size: 1e15 }))?.field).toBe('size');
    expect(validateEvent(trade(1n, T0, { price: 999_999_999_999_999 }))).toBeNull();
  });

  it('valid data passes: a first sequence number in the billions, a normal gap, months between events (fundamentals before the day)', () => {
    const { verdicts } = fold([trade(5_000_000_000n, T0 - 400n * 86_400n * S), trade(5_000_000_300n, T0), hb(1n, T0 + 6n * 86_400n * S)]);
    expect(verdicts).toEqual(['next', 'next', 'next']);
  });
});
