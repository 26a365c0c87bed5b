import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEvents, type MarketEvent, type QuoteEvent, type TradeEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { finishBuilder, initBuilder, stepBuilder, takeReady, type BuilderConfig, type BuilderSample } from './builder.ts';
import type { RowBatch } from './row-store.ts';
import { parseLabels } from './spec.ts';

const S = 1_000_000_000n;
const T0 = 1_710_510_000n * S; // 2024-03-15 13:40 UTC
const SET = createFactorSet(DEFAULT_FACTORS);

const quote = (symbol: string, seq: number, tsRecv: bigint, mid: number, tsEvent = tsRecv): QuoteEvent => ({
  kind: 'quote', tsEvent, tsRecv, symbol, seq: BigInt(seq), bidPx: mid - 0.01, bidSz: 5, askPx: mid + 0.01, askSz: 5,
});
const trade = (symbol: string, seq: number, tsRecv: bigint, price: number, tsEvent = tsRecv): TradeEvent => ({
  kind: 'trade', tsEvent, tsRecv, symbol, seq: BigInt(seq), price, size: 1, side: 1,
});

interface Row {
  symbol: string;
  ts: bigint;
  asofTs: bigint | null;
  asofSeq: bigint | null;
  f: Record<string, number | null>;
}

function rowsOf(batches: RowBatch[], names: readonly string[]): Row[] {
  const out: Row[] = [];
  for (const b of batches) {
    const sym = b.columns.symbol as { dict: string[]; indices: Int32Array };
    const at = b.columns.asof_ts_recv as { values: BigInt64Array; valid: Uint8Array };
    const as = b.columns.asof_seq as { values: BigInt64Array; valid: Uint8Array };
    for (let i = 0; i < b.n; i++) {
      const f: Record<string, number | null> = {};
      for (const n of names) {
        const c = b.columns[n] as { values: Float64Array; valid: Uint8Array };
        f[n] = c.valid[i] ? c.values[i] : null;
      }
      out.push({ symbol: sym.dict[sym.indices[i]], ts: b.ts[i], asofTs: at.valid[i] ? at.values[i] : null, asofSeq: as.valid[i] ? as.values[i] : null, f });
    }
  }
  return out;
}

function build(events: MarketEvent[], sample: BuilderSample, labels = '', extra: Partial<BuilderConfig> = {}): Row[] {
  const cfg: BuilderConfig = { set: SET, features: SET.columns, labels: labels ? parseLabels(labels) : [], haltGapNs: 300n * S, sample, fromNs: 0n, toNs: 1n << 62n, ...extra };
  const b = initBuilder(cfg);
  const batches: RowBatch[] = [];
  for (const ev of events) stepBuilder(b, ev);
  finishBuilder(b);
  for (let x = takeReady(b); x !== null; x = takeReady(b)) batches.push(x);
  return rowsOf(batches, [...cfg.features, ...cfg.labels.map((l) => l.name)]);
}

/** The replay's fold over exactly the events with ts_recv <= t: the values a sample at t must hold. */
function naiveAsOf(events: readonly MarketEvent[], symbol: string, t: bigint): (number | null)[] | null {
  const fold = initFold();
  for (const ev of events) if (ev.tsRecv <= t) applyEvent(SET, fold, ev, () => {});
  const s = fold.bySymbol.get(symbol);
  return s ? [...s.values] : null;
}

describe('point in time by receive time', () => {
  it('a late correction (ts_event <= t, ts_recv > t) is not in the features at t; an event-time as-of join would take it', () => {
    const t = T0 + 20n * S;
    const events: MarketEvent[] = [
      quote('A', 1, T0 + 10n * S, 100),
      // the correction: stamped 15 s by the exchange, received 25 s (after the sample at 20 s)
      quote('A', 2, T0 + 25n * S, 250, T0 + 15n * S),
      quote('A', 3, T0 + 40n * S, 101),
    ];
    const rows = build(events, { kind: 'entities', rows: [{ symbol: 'A', ts: t, row: 0 }] });
    expect(rows).toHaveLength(1);
    expect(rows[0].f.mid).toBe(100);
    expect(rows[0].asofTs).toBe(T0 + 10n * S);
    expect(rows[0].asofSeq).toBe(1n);
    // Feast-style: the last row whose event time is <= t, whenever it was written
    const byEventTime = events.filter((e) => e.tsEvent <= t).sort((a, b) => (a.tsEvent < b.tsEvent ? -1 : 1)).at(-1) as QuoteEvent;
    expect((byEventTime.bidPx + byEventTime.askPx) / 2).toBe(250);
    expect(rows[0].f.mid).not.toBe(250);
  });

  it('an event received exactly at t is in the sample at t, one a nanosecond later is not', () => {
    const t = T0 + 5n * S;
    const rows = build([quote('A', 1, T0, 10), quote('A', 2, t, 11), quote('A', 3, t + 1n, 12)], { kind: 'entities', rows: [{ symbol: 'A', ts: t, row: 0 }] });
    expect(rows[0].f.mid).toBe(11);
    expect(rows[0].asofSeq).toBe(2n);
  });

  it('every feature at every sample equals the replay fold run over the events with ts_recv <= t (property)', () => {
    const ev = fc.record({ sym: fc.constantFrom('A', 'B'), dt: fc.bigInt(0n, 3n * S), trade: fc.boolean(), px: fc.integer({ min: 9000, max: 11000 }) });
    fc.assert(
      fc.property(fc.array(ev, { minLength: 1, maxLength: 40 }), fc.bigInt(S / 10n, 2n * S), (spec, step) => {
        let t = T0;
        const seq = new Map<string, number>();
        const events = spec.map((e) => {
          t += e.dt;
          const k = `${e.sym}${e.trade}`;
          seq.set(k, (seq.get(k) ?? 0) + 1);
          return e.trade ? trade(e.sym, seq.get(k)!, t, e.px / 100) : quote(e.sym, seq.get(k)!, t, e.px / 100);
        });
        events.sort(compareEvents);
        const rows = build(events, { kind: 'every', stepNs: step });
        for (const r of rows) {
          const want = naiveAsOf(events, r.symbol, r.ts);
          expect(SET.columns.map((c) => r.f[c])).toEqual(want);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('labels', () => {
  // A: quotes every 10 s from T0 (mid 100, 101, 102, ...), trades every 10 s at +5 s
  const series = (n: number, from = 0): MarketEvent[] =>
    Array.from({ length: n }, (_, i) => [quote('A', i + 1, T0 + BigInt(from + i * 10) * S, 100 + i), trade('A', i + 1, T0 + BigInt(from + i * 10 + 5) * S, 100 + i)]).flat();

  it('forward log return, volatility and sign come from events after t only', () => {
    const rows = build(series(20), { kind: 'entities', rows: [{ symbol: 'A', ts: T0 + 12n * S, row: 0 }] }, 'fwd_return:30s,fwd_vol:30s,fwd_sign:30s');
    const r = rows[0].f;
    // at 12 s: mid 101 (quote at 10 s), last 101 (trade at 15 s? no: received after t) -> last 100
    expect(r.mid).toBe(101);
    expect(r.last_price).toBe(100);
    // at 42 s: mid 104 (quote at 40 s), last 103 (trade at 35 s)
    expect(r.fwd_ret_mid_30s).toBe(Math.log(104 / 101));
    expect(r.fwd_ret_last_30s).toBe(Math.log(103 / 100));
    expect(r.fwd_sign_mid_30s).toBe(1);
    const lr = [102 / 101, 103 / 102, 104 / 103].map((x) => Math.log(x) ** 2);
    expect(r.fwd_vol_mid_30s).toBeCloseTo(Math.sqrt(lr[0] + lr[1] + lr[2]), 15);
  });

  it('a horizon past the data or across a halt is null, never filled', () => {
    // 20 events, then a 10-minute silence (a halt with --halt-gap 5m), then more
    const events = [...series(20), ...series(5, 800).map((e) => ({ ...e, seq: e.seq + 100n }))];
    const at = (s: number, row: number) => ({ symbol: 'A', ts: T0 + BigInt(s) * S, row });
    const rows = build(events, { kind: 'entities', rows: [at(100, 0), at(185, 1), at(810, 2), at(830, 3)] }, 'fwd_return:30s');
    const v = rows.map((r) => r.f.fwd_ret_mid_30s);
    expect(v[0]).toBe(Math.log(113 / 110)); // inside the data, no gap
    expect(v[1]).toBeNull(); // (185, 215] runs into the halt (last event 195, next 800)
    expect(v[2]).toBe(Math.log(104 / 101)); // after the halt: mid 101 at 810 s (received at t), 104 at 840 s
    expect(v[3]).toBeNull(); // (830, 860] runs past the last event (845)
  });

  it('a halt that ended inside the horizon also nulls the label', () => {
    const events = [...series(3), ...series(5, 700).map((e) => ({ ...e, seq: e.seq + 100n }))];
    const rows = build(events, { kind: 'entities', rows: [{ symbol: 'A', ts: T0 + 690n * S, row: 0 }] }, 'fwd_return:30s', { haltGapNs: 300n * S });
    expect(rows[0].f.fwd_ret_mid_30s).toBeNull();
  });
});

describe('sampling', () => {
  it('trades: one row per symbol and trade receive time, after every event at that instant', () => {
    const t = T0 + S;
    const rows = build([trade('A', 1, t, 10), trade('A', 2, t, 11), quote('A', 1, t, 10.5), trade('B', 1, t + S, 20)], { kind: 'trades' });
    expect(rows.map((r) => [r.symbol, r.ts - T0, r.f.last_price, r.f.mid])).toEqual([
      ['A', S, 11, 10.5],
      ['B', 2n * S, 20, null],
    ]);
  });

  it('bars: each boundary for the symbols that traded in (t - step, t]', () => {
    const rows = build([trade('A', 1, T0 + 10n * S, 10), trade('B', 1, T0 + 70n * S, 20), quote('A', 1, T0 + 200n * S, 10)], { kind: 'bars', stepNs: 60n * S });
    expect(rows.map((r) => [r.symbol, (r.ts - T0) / S])).toEqual([
      ['A', 60n],
      ['B', 120n],
    ]);
  });

  it('entities: an unknown symbol gets null features and identity', () => {
    const rows = build([quote('A', 1, T0, 10), quote('A', 2, T0 + S, 10)], { kind: 'entities', rows: [{ symbol: 'ZZZ', ts: T0, row: 0 }] }, 'fwd_return:1s');
    expect(rows[0].asofTs).toBeNull();
    expect(rows[0].f.mid).toBeNull();
    expect(rows[0].f.fwd_ret_mid_1s).toBeNull();
  });
});
