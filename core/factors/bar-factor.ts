/**
 * Shared shape of the factors computed on 1-minute bars (moving averages, EMA, RSI, MACD,
 * returns, realized volatility, bar anomalies): each owns a minute-bar builder fed by trades and
 * heartbeats, and updates its own kernel once per closed bar. Between closes the value stays that
 * of the last closed bar, so every row of a minute carries the same bar-based values.
 *
 * Bar clock: a bar closes on the first trade or heartbeat whose ts_event is in a later minute
 * (see kernels/minute-bars.ts, including its late-trade policy). Quotes and book rows do not move
 * the clock, so the same bars come out whatever the quote traffic. A minute is floor(t / 60 s) of
 * UTC time, which is also a whole minute of New York time: bars do not roll at any midnight.
 *
 * Sessions (the `session` parameter every bar factor takes, market-sessions.ts):
 * - `all` (default, the names without a suffix): bars from every trade, one continuous series
 *   across days: a 5-minute average at 09:31 spans pre-market and yesterday's after-hours bars.
 * - a session kind (`us-equity`, `fx-ny17`, `utc`) or `auto` (the symbol's session from the
 *   factor set's table, fold.ts): bars only from trades inside the session (extended hours and
 *   closed days make no bars; their trades still move the clock), and the factor's kernel starts
 *   again with the first bar of each session, so it warms up anew every day (`ma_5m_us_equity` is
 *   null until 09:35). Columns carry the session: `ma_5m_us_equity`, `rsi_14_auto`, `macd_auto_signal`.
 */
import { defineDerivation, type Derivation } from '../derivation.ts';
import type { MarketEvent } from '../events.ts';
import { defineFactor, type Factor, type ParamRule, type Params } from '../factor.ts';
import { advanceClock, initMinuteBars, onTrade, type MinuteBars } from '../kernels/minute-bars.ts';
import { SESSION_PARAMS, sessionAt, type SessionBounds, type SessionKind, type SessionParam } from '../kernels/market-sessions.ts';

/** A bar factor's `session` parameter: `all` (every trade, continuous) or a session (above). */
export type BarSession = 'all' | SessionParam;
const BAR_SESSIONS: readonly string[] = ['all', ...SESSION_PARAMS];

/** Minute bars, with the session each closed bar belongs to (session bars). */
export interface SessionBars extends MinuteBars {
  /** `all`: every trade makes bars (no sessions); else the symbol's session kind. */
  kind: SessionKind | 'all';
  /** The span (market-sessions.ts) of the latest trade, and its session. */
  span: SessionBounds;
  /** Open (UTC ns) of the session the open bar belongs to; -1n before the first (and with `all`). */
  barSession: bigint;
  /** Open of the session of the last closed bar: a bar factor starts again when it changes. */
  closedSession: bigint;
}

function initSessionBars(kind: SessionKind | 'all'): SessionBars {
  return { ...initMinuteBars(), kind, span: { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n }, barSession: -1n, closedSession: -1n };
}

/** Applies one trade or heartbeat to the bars; true when a bar closed (then readable from `s`). */
function updateSessionBars(s: SessionBars, ev: MarketEvent): boolean {
  if (s.kind === 'all') return ev.kind === 'trade' ? onTrade(s, ev.tsEvent, ev.price, ev.size, ev.side) : advanceClock(s, ev.tsEvent);
  const t = ev.tsEvent;
  const held = s.barSession;
  let closed: boolean;
  if (ev.kind !== 'trade') closed = advanceClock(s, t);
  else {
    const b = s.span;
    if (t >= b.dayEnd) sessionAt(s.kind, t, b);
    // a trade outside the session (or from an earlier span) makes no bar; it moves the clock only
    if (t >= b.dayStart && t >= b.open && t < b.close) {
      s.barSession = b.open;
      closed = onTrade(s, t, ev.price, ev.size, ev.side);
    } else closed = advanceClock(s, t);
  }
  // the bar that closed was the one open before this event, in the session it was opened in
  if (closed) s.closedSession = held;
  return closed;
}

const barsBy = new Map<BarSession, Derivation<SessionBars>>();

/**
 * The 1-minute bars for a bar factor's `session` (one Derivation object per value, so the factors
 * that agree share one, built once per event: derivation.ts); fires when a bar closes. Every
 * value runs the same code (only the configured session differs), so a factor's code hash does
 * not depend on its `session` parameter, as for any other parameter.
 */
export function barsFor(session: BarSession): Derivation<SessionBars> {
  let d = barsBy.get(session);
  if (d === undefined) {
    d = defineDerivation<SessionBars>({
      name: session === 'all' ? 'minute_bars' : `minute_bars_${session.replace(/-/g, '_')}`,
      inputs: ['trade', 'heartbeat'],
      // `auto`: the symbol's own session (fold.ts hands it to init)
      init: (symbolSession) => initSessionBars(session === 'auto' ? symbolSession : session),
      update: updateSessionBars,
      source: [initSessionBars, initMinuteBars, sessionAt, onTrade, advanceClock],
    });
    barsBy.set(session, d);
  }
  return d;
}

/** The symbol's 1-minute bars from every trade (session `all`), shared by the default bar factors and price_collar. */
export const minuteBars: Derivation<MinuteBars> = barsFor('all');

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

/** A bar factor's state: its kernel's, and the session of the bars it has seen (-1n: `all`, or none yet). */
export interface BarState<S> {
  k: S;
  session: bigint;
}

/**
 * A factor updated once per closed 1-minute bar of the shared `minuteBars` derivation, or of the
 * session bars its `session` parameter names (see the file comment); the `session` parameter is
 * added to the spec's (default `all`).
 */
export function defineBarFactor<P extends Params, S>(spec: BarFactorSpec<P, S>): Factor<P & { session: BarSession }, BarState<S>, MinuteBars> {
  const { onBar, value, init } = spec;
  const base = spec.name;
  type Q = P & { session: BarSession };
  const suffix = (p: Q) => (p.session === 'all' ? '' : `_${p.session.replace(/-/g, '_')}`);
  const extras = Object.fromEntries(Object.entries(spec.extras ?? {}).map(([k, fn]) => [k, (w: BarState<S>, p: Q) => fn(w.k, p)]));
  return defineFactor<Q, BarState<S>, MinuteBars>({
    name: (p) => `${typeof base === 'string' ? base : base(p)}${suffix(p)}`,
    version: spec.version,
    description: spec.description,
    params: { ...spec.params, session: 'all' as BarSession } as Q,
    rules: { ...spec.rules, session: { kind: 'string', oneOf: BAR_SESSIONS } } as { readonly [K in keyof Q]: ParamRule },
    inputs: minuteBars.inputs,
    derive: (p) => ({ from: barsFor(p.session), when: 'fired' }),
    warmup: spec.warmup,
    init: (p) => ({ k: init(p), session: -1n }),
    update(w, _ev, p, bars) {
      // session bars: the kernel starts again with the first bar of each session
      if (p.session !== 'all') {
        const closedIn = (bars as SessionBars).closedSession;
        if (closedIn !== w.session) {
          w.k = init(p);
          w.session = closedIn;
        }
      }
      onBar(w.k, bars, p);
      return value(w.k, p);
    },
    extras,
    source: [init, onBar, value, ...Object.values(spec.extras ?? {}), ...(spec.kernels ?? [])],
  });
}
