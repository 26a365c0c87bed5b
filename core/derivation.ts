/**
 * Shared per-symbol state that several factors read: the 1-minute bars, the L2 book. Without it,
 * each of the 14 bar factors would build its own bars from every trade and heartbeat, and each
 * depth factor its own book: the same work 14 and 2 times over, on every event.
 *
 * A derivation is a pure state machine like a factor (plain-data state, same inputs, same order),
 * but without an output column. The fold keeps one instance per symbol per factor set, applies
 * each input event to it once, then calls the factors that read it: on every input event
 * (`when: 'always'`), or only when `update` reported a change they depend on (`when: 'fired'`,
 * e.g. a bar closed), which is what makes bar factors cost nothing between bar closes. A factor's
 * output is the same either way: a 'fired' factor's value may only change when the derivation
 * fires, and the contract suite checks every factor against a naive recomputation.
 */
import type { Kind, MarketEvent } from './events.ts';
import type { SessionKind } from './kernels/market-sessions.ts';

export interface Derivation<S = unknown> {
  /** Unique within a factor set. */
  readonly name: string;
  /** Event kinds it reads; the factors that read it take exactly these. */
  readonly inputs: readonly Kind[];
  /** A symbol's initial state; `session` is the symbol's session (fold.ts SessionTable), for session-aware derivations. */
  init(session: SessionKind): S;
  /** Applies one event; returns true when 'fired' dependents must update. */
  update(state: S, event: MarketEvent): boolean;
  /** Functions whose code decides the derived state (for factor code hashes). */
  readonly source: readonly ((...args: never[]) => unknown)[];
}

export function defineDerivation<S>(d: Derivation<S>): Derivation<S> {
  return Object.freeze({ ...d, inputs: Object.freeze([...d.inputs]), source: Object.freeze([...d.source]) });
}
