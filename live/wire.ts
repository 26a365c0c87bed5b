/**
 * The wire format of an event on an input stream: one stream entry, flat string fields.
 *
 *   k   kind: trade | quote | book | fundamental | news | heartbeat
 *   s   symbol ('' for heartbeats)
 *   q   per-(kind, symbol) sequence number, decimal
 *   te  ts_event, epoch ns, decimal (exact: never a float)
 *   tr  ts_recv, epoch ns, decimal
 *   trade:       p price, z size, d side (1 | -1 | 0)
 *   quote:       bp bid price, bz bid size, ap ask price, az ask size
 *   book:        d side (1 bid | -1 ask), p price, z size (0 deletes), n snapshot (0|1), l last (0|1)
 *   fundamental: fy fiscal year, fp fiscal period, e eps, et eps ttm, bv book value/share, so shares
 *   news:        st sentiment
 *
 * Numbers are JavaScript's shortest round-trip decimal (`String(x)`), so `Number(s)` gives back the
 * same float64 bit for bit; NaN is "NaN". Any producer (an exchange adapter in another language)
 * can write this format; `lockstep feed` is one such producer. Decoding validates every field and
 * then applies core's event validation: a bad entry is reported with the field, value and reason
 * (the worker dead-letters it), never thrown.
 */
import { isKind, type MarketEvent } from '../core/events.ts';
import { validateEvent } from '../core/validate-event.ts';

const f = (x: number) => String(x);

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

class Bad extends Error {
  constructor(readonly problem: WireProblem) {
    super(problem.reason);
  }
}

const INT_RE = /^-?\d{1,19}$/;

function fieldsOf(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
}

function need(m: Map<string, string>, k: string): string {
  const v = m.get(k);
  if (v === undefined) throw new Bad({ field: k, value: undefined, reason: 'missing field' });
  return v;
}

function big(m: Map<string, string>, k: string): bigint {
  const v = need(m, k);
  if (!INT_RE.test(v)) throw new Bad({ field: k, value: v, reason: 'not an integer' });
  const b = BigInt(v);
  if (b > 0x7fffffffffffffffn || b < -0x8000000000000000n) throw new Bad({ field: k, value: v, reason: 'outside int64' });
  return b;
}

function num(m: Map<string, string>, k: string): number {
  const v = need(m, k);
  const x = v === 'NaN' ? NaN : Number(v);
  if (v.trim() === '' || (Number.isNaN(x) && v !== 'NaN')) throw new Bad({ field: k, value: v, reason: 'not a number' });
  return x;
}

function flag(m: Map<string, string>, k: string): boolean {
  const v = need(m, k);
  if (v !== '0' && v !== '1') throw new Bad({ field: k, value: v, reason: 'must be 0 or 1' });
  return v === '1';
}

/** Decodes one stream entry's fields into a validated event, or the problem with it. */
export function decodeEvent(flat: readonly string[]): Decoded {
  try {
    const m = fieldsOf(flat);
    const kind = need(m, 'k');
    if (!isKind(kind)) throw new Bad({ field: 'k', value: kind, reason: 'unknown kind' });
    const base = { tsEvent: big(m, 'te'), tsRecv: big(m, 'tr'), symbol: need(m, 's'), seq: big(m, 'q') };
    let e: MarketEvent;
    switch (kind) {
      case 'trade':
        e = { kind, ...base, price: num(m, 'p'), size: num(m, 'z'), side: num(m, 'd') as 1 | -1 | 0 };
        break;
      case 'quote':
        e = { kind, ...base, bidPx: num(m, 'bp'), bidSz: num(m, 'bz'), askPx: num(m, 'ap'), askSz: num(m, 'az') };
        break;
      case 'book':
        e = { kind, ...base, side: num(m, 'd') as 1 | -1, price: num(m, 'p'), size: num(m, 'z'), snapshot: flag(m, 'n'), last: flag(m, 'l') };
        break;
      case 'fundamental':
        e = { kind, ...base, fiscalYear: num(m, 'fy'), fiscalPeriod: need(m, 'fp'), eps: num(m, 'e'), epsTtm: num(m, 'et'), bookValuePerShare: num(m, 'bv'), sharesOutstanding: num(m, 'so') };
        break;
      case 'news':
        e = { kind, ...base, sentiment: num(m, 'st') };
        break;
      case 'heartbeat':
        e = { kind, ...base };
        break;
    }
    const p = validateEvent(e);
    if (p) return { ok: false, problem: { field: p.field, value: String(p.value), reason: p.reason } };
    return { ok: true, event: e };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, problem: err.problem };
    throw err;
  }
}
