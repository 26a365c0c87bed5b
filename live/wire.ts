/**
 * The wire format of an event on an input stream: one stream entry, flat string fields.
 *
 *   k   kind: trade | quote | book | fundamental | corporate_action | news | heartbeat
 *   s   symbol ('' for heartbeats)
 *   q   per-(kind, symbol) sequence number, decimal
 *   te  ts_event, epoch ns, decimal (exact: never a float)
 *   tr  ts_recv, epoch ns, decimal
 *   trade:       p price, z size, d side (1 | -1 | 0)
 *   quote:       bp bid price, bz bid size, ap ask price, az ask size
 *   book:        d side (1 bid | -1 ask), p price, z size (0 deletes), n snapshot (0|1), l last (0|1)
 *   fundamental: fy fiscal year, fp fiscal period, e eps, et eps ttm, bv book value/share, so shares
 *   corporate_action: ca action (split | dividend), tx ts_ex (epoch ns, decimal), r ratio, am amount
 *                (r is NaN for a dividend, am NaN for a split)
 *   news:        st sentiment
 *
 * Numbers are JavaScript's shortest round-trip decimal (`String(x)`), so `Number(s)` gives back the
 * same float64 bit for bit; NaN is "NaN". Any producer (an exchange adapter in another language)
 * can write this format; `lockstep feed` is one such producer. Decoding validates every field and
 * then applies core's event validation: a bad entry is reported with the field, value and reason
 * (the worker dead-letters it), never thrown. The worker also has ts_recv checked against its wall
 * clock (core/plausibility.ts): an entry received more than a day from now is implausible.
 */
import { isKind, type MarketEvent } from '../core/events.ts';
import { validateEvent } from '../core/validate-event.ts';
import { MAX_RECV_AHEAD_NS, receivedAheadProblem } from '../core/plausibility.ts';
import { LockstepError } from '../core/errors.ts';

/** String(-0) is '0': keep the sign so the worker folds the very number the producer had. */
const f = (x: number) => (x === 0 && 1 / x < 0 ? '-0' : String(x));

export function encodeEvent(e: MarketEvent): string[] {
  const base = ['k', e.kind, 's', e.symbol, 'q', e.seq.toString(), 'te', e.tsEvent.toString(), 'tr', e.tsRecv.toString()];
  switch (e.kind) {
    case 'trade':
      return [...base, 'p', f(e.price), 'z', f(e.size), 'd', f(e.side)];
    case 'quote':
      return [...base, 'bp', f(e.bidPx), 'bz', f(e.bidSz), 'ap', f(e.askPx), 'az', f(e.askSz)];
    case 'book':
      return [...base, 'd', f(e.side), 'p', f(e.price), 'z', f(e.size), 'n', e.snapshot ? '1' : '0', 'l', e.last ? '1' : '0'];
    case 'fundamental':
      return [...base, 'fy', f(e.fiscalYear), 'fp', e.fiscalPeriod, 'e', f(e.eps), 'et', f(e.epsTtm), 'bv', f(e.bookValuePerShare), 'so', f(e.sharesOutstanding)];
    case 'corporate_action':
      return [...base, 'ca', e.action, 'tx', e.tsEx.toString(), 'r', f(e.ratio), 'am', f(e.amount)];
    case 'news':
      return [...base, 'st', f(e.sentiment)];
    case 'heartbeat':
      return base;
  }
}

export interface WireProblem {
  field: string;
  value: string | undefined;
  reason: string;
}

export type Decoded = { ok: true; event: MarketEvent } | { ok: false; problem: WireProblem };

class Bad extends LockstepError {
  constructor(readonly problem: WireProblem) {
    super(problem.reason);
  }
}

/**
 * A field name of one or two characters as a number (first char × 65536 + second), -1 for any
 * other: the decoder dispatches on it instead of comparing the name with each field's in turn
 * (the names come off the socket, never interned, so a string switch compared their contents).
 */
function fieldCode(f: string): number {
  if (f.length === 1) return f.charCodeAt(0);
  if (f.length !== 2) return -1;
  const c0 = f.charCodeAt(0);
  // '\0' first would collide with the one-character codes
  return c0 === 0 ? -1 : c0 * 65536 + f.charCodeAt(1);
}

/** /^-?\d{1,19}$/ without the regular expression. */
function isInt(t: string): boolean {
  const n = t.length;
  let i = n > 0 && t.charCodeAt(0) === 45 ? 1 : 0;
  if (n - i < 1 || n - i > 19) return false;
  for (; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function need(k: string, v: string | undefined): string {
  if (v === undefined) throw new Bad({ field: k, value: undefined, reason: 'missing field' });
  return v;
}

function big(k: string, v: string | undefined): bigint {
  const t = need(k, v);
  if (!isInt(t)) throw new Bad({ field: k, value: t, reason: 'not an integer' });
  const b = BigInt(t);
  if (b > 0x7fffffffffffffffn || b < -0x8000000000000000n) throw new Bad({ field: k, value: t, reason: 'outside int64' });
  return b;
}

function num(k: string, v: string | undefined): number {
  const t = need(k, v);
  const x = t === 'NaN' ? NaN : Number(t);
  if (Number.isNaN(x) ? t !== 'NaN' : t.trim() === '') throw new Bad({ field: k, value: t, reason: 'not a number' });
  return x;
}

function flag(k: string, v: string | undefined): boolean {
  const t = need(k, v);
  if (t !== '0' && t !== '1') throw new Bad({ field: k, value: t, reason: 'must be 0 or 1' });
  return t === '1';
}

/**
 * The latest ts_recv accepted without asking the wall clock again: wall clock + MAX_RECV_AHEAD_NS
 * when last read. Only an entry beyond it reads the clock (it only ever grows), so the usual entry
 * pays one comparison.
 */
let horizon = -1n;

/** `tsRecv`'s problem against the wall clock + a day (core/plausibility.ts), re-reading the clock past the cached horizon. */
function receivedTooLate(tsRecv: bigint): WireProblem | null {
  horizon = BigInt(Date.now()) * 1_000_000n + MAX_RECV_AHEAD_NS;
  const p = receivedAheadProblem(horizon, tsRecv);
  return p === null ? null : { field: 'tr', value: String(tsRecv), reason: `${p.reason} (${new Date(Date.now()).toISOString()})` };
}

/**
 * Decodes one stream entry's fields into a validated event, or the problem with it. Fields are
 * picked out in one pass over the flat list (a repeated field: the last one counts; unknown
 * fields are ignored); they are then checked in a fixed order, so an entry with several problems
 * always reports the same one. With `checkClock` (the worker), ts_recv must also be no more
 * than a day ahead of the wall clock.
 */
export function decodeEvent(flat: readonly string[], checkClock = false): Decoded {
  let k, s, q, te, tr, p, z, d, bp, bz, ap, az, n, l, fy, fp, e, et, bv, so, st, ca, tx, r, am: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const v = flat[i + 1];
    switch (fieldCode(flat[i])) {
      case 0x6b: k = v; break; // k
      case 0x73: s = v; break; // s
      case 0x71: q = v; break; // q
      case 0x740065: te = v; break;
      case 0x740072: tr = v; break;
      case 0x70: p = v; break; // p
      case 0x7a: z = v; break; // z
      case 0x64: d = v; break; // d
      case 0x620070: bp = v; break;
      case 0x62007a: bz = v; break;
      case 0x610070: ap = v; break;
      case 0x61007a: az = v; break;
      case 0x6e: n = v; break; // n
      case 0x6c: l = v; break; // l
      case 0x660079: fy = v; break;
      case 0x660070: fp = v; break;
      case 0x65: e = v; break; // e
      case 0x650074: et = v; break;
      case 0x620076: bv = v; break;
      case 0x73006f: so = v; break;
      case 0x730074: st = v; break;
      case 0x630061: ca = v; break;
      case 0x740078: tx = v; break;
      case 0x72: r = v; break; // r
      case 0x61006d: am = v; break;
    }
  }
  try {
    const kind = need('k', k);
    if (!isKind(kind)) throw new Bad({ field: 'k', value: kind, reason: 'unknown kind' });
    const tsEvent = big('te', te);
    const tsRecv = big('tr', tr);
    const symbol = need('s', s);
    const seq = big('q', q);
    let ev: MarketEvent;
    // each case writes its kind as a literal: the fold's switch then compares the interned
    // constant by pointer, not the wire's string by content
    switch (kind) {
      case 'trade':
        ev = { kind: 'trade', tsEvent, tsRecv, symbol, seq, price: num('p', p), size: num('z', z), side: num('d', d) as 1 | -1 | 0 };
        break;
      case 'quote':
        ev = { kind: 'quote', tsEvent, tsRecv, symbol, seq, bidPx: num('bp', bp), bidSz: num('bz', bz), askPx: num('ap', ap), askSz: num('az', az) };
        break;
      case 'book':
        ev = { kind: 'book', tsEvent, tsRecv, symbol, seq, side: num('d', d) as 1 | -1, price: num('p', p), size: num('z', z), snapshot: flag('n', n), last: flag('l', l) };
        break;
      case 'fundamental':
        ev = { kind: 'fundamental', tsEvent, tsRecv, symbol, seq, fiscalYear: num('fy', fy), fiscalPeriod: need('fp', fp), eps: num('e', e), epsTtm: num('et', et), bookValuePerShare: num('bv', bv), sharesOutstanding: num('so', so) };
        break;
      case 'corporate_action':
        // an action other than split/dividend is refused by validateEvent below
        ev = { kind: 'corporate_action', tsEvent, tsRecv, symbol, seq, action: need('ca', ca) as 'split', tsEx: big('tx', tx), ratio: num('r', r), amount: num('am', am) };
        break;
      case 'news':
        ev = { kind: 'news', tsEvent, tsRecv, symbol, seq, sentiment: num('st', st) };
        break;
      case 'heartbeat':
        ev = { kind: 'heartbeat', tsEvent, tsRecv, symbol, seq };
        break;
    }
    if (checkClock && tsRecv > horizon) {
      const late = receivedTooLate(tsRecv);
      if (late) return { ok: false, problem: late };
    }
    const problem = validateEvent(ev);
    if (problem) return { ok: false, problem: { field: problem.field, value: String(problem.value), reason: problem.reason } };
    return { ok: true, event: ev };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, problem: err.problem };
    throw err;
  }
}
