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
import { defineDerivation } from '../derivation.ts';
import { defineFactor, type Factor, type ParamRule, type Params } from '../factor.ts';
import { advanceClock, initMinuteBars, onTrade, type MinuteBars } from '../kernels/minute-bars.ts';

/**
 * The symbol's 1-minute bars, built once per event and shared by every bar factor of the set
 * (derivation.ts). Fires when a bar closes.
 */
export const minuteBars = defineDerivation<MinuteBars>({
  name: 'minute_bars',
  inputs: ['trade', 'heartbeat'],
  init: initMinuteBars,
  update: (bars, ev) => (ev.kind === 'trade' ? onTrade(bars, ev.tsEvent, ev.price, ev.size, ev.side) : advanceClock(bars, ev.tsEvent)),
  source: [initMinuteBars, onTrade, advanceClock],
});

export interface BarFactorSpec<P extends Params, S> {
  /** As FactorSpec's name: a function of the params when there are any (factor.ts). */
  name: string | ((params: P) => string);
  version: number;
  description: string;
  params: P;
  rules: { readonly [K in keyof P]: ParamRule };
  warmup: string;
  /** State of the bar kernel(s) the factor keeps; the bars themselves are shared. */
  init(params: P): S;
  /** Called once per closed bar; read the bar from `bars` (close, volume, ...). */
  onBar(state: S, bars: MinuteBars, params: P): void;
  value(state: S, params: P): number | null;
  extras?: Readonly<Record<string, (state: S, params: P) => number | null>>;
  /** Kernel functions used by onBar/value (for the code hash). */
  kernels?: readonly ((...args: never[]) => unknown)[];
}

/** A factor updated once per closed 1-minute bar of the shared `minuteBars` derivation. */
export function defineBarFactor<P extends Params, S>(spec: BarFactorSpec<P, S>): Factor<P, S, MinuteBars> {
  const { onBar, value } = spec;
  return defineFactor<P, S, MinuteBars>({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    params: spec.params,
    rules: spec.rules,
    inputs: minuteBars.inputs,
    derive: { from: minuteBars, when: 'fired' },
    warmup: spec.warmup,
    init: spec.init,
    update(k, _ev, p, bars) {
      onBar(k, bars, p);
      return value(k, p);
    },
    extras: spec.extras,
    source: [onBar, value, ...Object.values(spec.extras ?? {}), ...(spec.kernels ?? [])],
  });
}
