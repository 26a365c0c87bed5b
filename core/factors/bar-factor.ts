/**
 * Shared shape of the factors computed on 1-minute bars (moving averages, EMA, RSI, MACD,
 * returns, realized volatility, bar anomalies): each owns a minute-bar builder fed by trades and
 * heartbeats, and updates its own kernel once per closed bar. Between closes the value stays that
 * of the last closed bar, so every row of a minute carries the same bar-based values.
 *
 * Bar clock: a bar closes on the first trade or heartbeat whose ts_event is in a later minute
 * (see kernels/minute-bars.ts, including its late-trade policy). Quotes and book rows do not move
 * the clock, so the same bars come out whatever the quote traffic.
 */
import type { MarketEvent } from '../events.ts';
import { defineFactor, type Factor, type ParamRule, type Params } from '../factor.ts';
import { advanceClock, initMinuteBars, onTrade, type MinuteBars } from '../kernels/minute-bars.ts';

export interface BarFactorSpec<P extends Params, S> {
  name: string;
  version: number;
  description: string;
  params: P;
  rules: { readonly [K in keyof P]: ParamRule };
  warmup: string;
  /** State of the bar kernel(s) the factor keeps, besides the bar builder. */
  init(params: P): S;
  /** Called once per closed bar; read the bar from `bars` (close, volume, ...). */
  onBar(state: S, bars: MinuteBars, params: P): void;
  value(state: S, params: P): number | null;
  extras?: Readonly<Record<string, (state: S, params: P) => number | null>>;
  /** Kernel functions used by onBar/value (for the code hash). */
  kernels?: readonly ((...args: never[]) => unknown)[];
}

export interface BarState<S> {
  bars: MinuteBars;
  k: S;
}

export function defineBarFactor<P extends Params, S>(spec: BarFactorSpec<P, S>): Factor<P, BarState<S>> {
  const { onBar, value } = spec;
  const extras = spec.extras
    ? Object.fromEntries(Object.entries(spec.extras).map(([k, fn]) => [k, (st: BarState<S>, p: P) => fn(st.k, p)]))
    : undefined;
  return defineFactor<P, BarState<S>>({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    params: spec.params,
    rules: spec.rules,
    inputs: ['trade', 'heartbeat'],
    warmup: spec.warmup,
    init: (p) => ({ bars: initMinuteBars(), k: spec.init(p) }),
    update(st, ev: MarketEvent, p) {
      const closed = ev.kind === 'trade' ? onTrade(st.bars, ev.tsEvent, ev.price, ev.size, ev.side) : advanceClock(st.bars, ev.tsEvent);
      if (closed) onBar(st.k, st.bars, p);
      return value(st.k, p);
    },
    extras,
    source: [spec.init, onBar, value, ...Object.values(spec.extras ?? {}), onTrade, advanceClock, ...(spec.kernels ?? [])],
  });
}
