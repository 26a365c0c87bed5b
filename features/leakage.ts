/**
 * The builder's own look-ahead check: a feature at a sample instant t must not change when events
 * received after t change. For a cut t0 the part's fold runs twice up to t0 — once on the catalog's
 * events, once with every event received after t0 altered at the source (`perturbEvent`, applied in
 * event-source.ts before anything downstream sees it) — and every feature of every sample in
 * (t0 - window, t0] must be identical, bit for bit. A factor that learns the future through any
 * side channel (a buffer filled ahead of the fold, a file read, a shared global) shows up as a
 * difference, named by feature, symbol and instant.
 *
 * Why a window and not every sample <= t0: a factor that looks ahead by d reaches past t0 from every
 * sample in (t0 - d, t0], so the samples just before the cut are the ones that catch it; the window
 * bounds the memory the check holds (default 30 minutes).
 */
import type { MarketEvent } from '../core/events.ts';
import { UserError } from '../core/errors.ts';
import { isoNs } from '../replay/time-format.ts';

/** A feature of a sample changed when only events after the cut changed. */
export class LeakageError extends UserError {}

/**
 * The event with every value changed but its identity and times kept (and still valid: prices stay
 * positive, bid below ask): prices x1.25, sizes x2 + 1, sentiment negated, fundamentals x1.5.
 */
export function perturbEvent(ev: MarketEvent): MarketEvent {
  switch (ev.kind) {
    case 'trade':
      return { ...ev, price: ev.price * 1.25, size: ev.size * 2 + 1 };
    case 'quote':
      return { ...ev, bidPx: ev.bidPx * 1.25, askPx: ev.askPx * 1.25, bidSz: ev.bidSz * 2 + 1, askSz: ev.askSz * 2 + 1 };
    case 'book':
      return { ...ev, price: ev.price * 1.25, size: ev.size > 0 ? ev.size * 2 + 1 : 0 };
    case 'news':
      return { ...ev, sentiment: -ev.sentiment };
    case 'fundamental':
      return { ...ev, eps: ev.eps * 1.5, epsTtm: ev.epsTtm * 1.5, bookValuePerShare: ev.bookValuePerShare * 1.5 };
    default:
      return ev;
  }
}

/** Feature values of the samples in a cut's window, in sampling order. */
export interface CutRecord {
  t0: bigint;
  fromNs: bigint;
  symbols: string[];
  ts: bigint[];
  values: (readonly (number | null)[] | null)[];
}

export function initCutRecord(t0: bigint, windowNs: bigint): CutRecord {
  return { t0, fromNs: t0 - windowNs, symbols: [], ts: [], values: [] };
}

/** The builder's sample tap for one run: records the samples inside the cut's window. */
export function recordSample(r: CutRecord, symbol: string, t: bigint, values: readonly (number | null)[] | null, featureIdx: readonly number[]): void {
  if (t <= r.fromNs || t > r.t0) return;
  r.symbols.push(symbol);
  r.ts.push(t);
  r.values.push(values === null ? null : featureIdx.map((i) => values[i]));
}

const same = (a: number | null, b: number | null) => a === b || (a !== null && b !== null && Number.isNaN(a) && Number.isNaN(b));

/**
 * Throws a LeakageError at the first difference between the clean and the perturbed run's samples;
 * returns how many samples were compared.
 */
export function compareCut(clean: CutRecord, perturbed: CutRecord, features: readonly string[]): number {
  const n = Math.min(clean.ts.length, perturbed.ts.length);
  for (let i = 0; i < n; i++) {
    const where = `${clean.symbols[i]} at ${isoNs(clean.ts[i])} (${clean.ts[i]} ns)`;
    if (clean.symbols[i] !== perturbed.symbols[i] || clean.ts[i] !== perturbed.ts[i]) {
      throw new LeakageError(`leakage check: the samples up to ${isoNs(clean.t0)} changed when only events received after it were altered (${where} became ${perturbed.symbols[i]} at ${isoNs(perturbed.ts[i])})`);
    }
    const a = clean.values[i];
    const b = perturbed.values[i];
    for (let j = 0; j < features.length; j++) {
      const x = a?.[j] ?? null;
      const y = b?.[j] ?? null;
      if (!same(x, y)) {
        throw new LeakageError(`leakage check: feature ${features[j]} of ${where} is ${x} with the real data but ${y} when only events received after ${isoNs(clean.t0)} were altered: it reads data from after its sample time`);
      }
    }
  }
  if (clean.ts.length !== perturbed.ts.length) throw new LeakageError(`leakage check: ${clean.ts.length} samples in (${isoNs(clean.fromNs)}, ${isoNs(clean.t0)}] with the real data, ${perturbed.ts.length} when only later events were altered`);
  return n;
}
