/**
 * The day-level script of the synthetic market day: which symbol is halted and when, when the
 * market-wide burst happens, which symbol gaps, and who announces earnings today. Drawn from one
 * stream of (seed, date) so it never depends on the order symbols are generated in.
 */
import { chance, intBetween, permutation, rngFor, uniform } from './prng.ts';

export const STREAM_DAY = 1;
export const STREAM_SYMBOL = 2;
export const STREAM_TRAITS = 3;
export const STREAM_FUNDAMENTAL = 4;
export const STREAM_NEWS = 5;
export const STREAM_DELIVERY = 6;

export const NS_PER_SECOND = 1_000_000_000;
/** Session 13:30–20:00 UTC, as ns after midnight. */
export const OPEN_OFFSET_NS = (13 * 3600 + 30 * 60) * NS_PER_SECOND;
export const SESSION_NS = 6.5 * 3600 * NS_PER_SECOND;
/** Activity is shaped in 10-second buckets; halt and burst windows are whole buckets. */
export const BUCKET_NS = 10 * NS_PER_SECOND;
export const BUCKETS = SESSION_NS / BUCKET_NS;

export type AnnounceTime = 'pre' | 'post';

export interface DayPlan {
  /** Days since 1970-01-01 of the date. */
  day: number;
  /** Halted symbol: no trades, quotes or book updates in buckets [startBucket, endBucket). */
  halt: { symbolIndex: number; startBucket: number; endBucket: number };
  /** Market-wide burst: every symbol's activity is multiplied by `factor` in these buckets. */
  burst: { startBucket: number; endBucket: number; factor: number };
  /** One symbol's mid gaps by `fraction` (signed) at its first message after `offsetNs`. */
  jump: { symbolIndex: number; offsetNs: number; fraction: number };
  /** Symbols that announce quarterly results today, pre-open (~12:00 UTC) or after the close (~20:05). */
  announcers: Map<number, AnnounceTime>;
}

/** The day's script for `symbols` symbols. */
export function planDay(seed: number, day: number, symbols: number): DayPlan {
  const r = rngFor(seed, STREAM_DAY, day);
  const haltSymbol = intBelow0(r, symbols);
  // halts and bursts land between 14:30 and 19:00, away from the open and close auctions
  const haltStart = intBetween(r, 360, 1980);
  const haltLen = intBetween(r, 27, 33);
  const burstStart = intBetween(r, 360, 1980);
  const burstLen = intBetween(r, 6, 12);
  let jumpSymbol = intBelow0(r, symbols);
  if (symbols > 1 && jumpSymbol === haltSymbol) jumpSymbol = (jumpSymbol + 1) % symbols;
  const jumpOffset = Math.floor((0.1 + 0.8 * uniform(r)) * SESSION_NS);
  const jumpFraction = (chance(r, 0.5) ? 1 : -1) * (0.02 + 0.03 * uniform(r));
  const nAnnounce = Math.min(symbols, Math.max(2, Math.round(symbols / 10)));
  const order = permutation(r, symbols);
  const announcers = new Map<number, AnnounceTime>();
  for (let k = 0; k < nAnnounce; k++) announcers.set(order[k], k % 2 === 0 ? 'pre' : 'post');
  return {
    day,
    halt: { symbolIndex: haltSymbol, startBucket: haltStart, endBucket: haltStart + haltLen },
    burst: { startBucket: burstStart, endBucket: burstStart + burstLen, factor: 8 },
    jump: { symbolIndex: jumpSymbol, offsetNs: jumpOffset, fraction: jumpFraction },
    announcers,
  };
}

function intBelow0(r: Uint32Array, n: number): number {
  return intBetween(r, 0, n - 1);
}
