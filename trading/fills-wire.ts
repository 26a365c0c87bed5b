/**
 * The wire format of `<ns>:fills`, the live fills stream an order gateway (or `lockstep feed
 * --fills`) writes and `lockstep desk` reads. One entry per fill, its fields decimal text:
 *
 *   fill_id account strategy symbol side(buy|sell) qty(units) price(currency) fee(currency)
 *   order_id ts_event ts_recv (epoch ns, decimal integers)
 *   parent_id (optional): the parent order of the child `order_id` fills; an execution algorithm
 *   (`lockstep execute --redis`, trading/exec/exec-live.ts) reads only its own parent's fills
 *
 * or a heartbeat `kind=heartbeat ts_recv=N`: the stream will deliver no fill received before N, so
 * an idle fills stream does not hold the PnL series back (the desk's watermark, core/watermark-merge.ts).
 *
 * Decoding converts once, at the edge, to the ledger's grid (ticks, lots, money units) and refuses
 * anything it cannot take exactly (a bad side, qty ≤ 0, a non-number, an unknown symbol, a price off
 * the tick grid) with a reason naming the field and value: the desk dead-letters it, never crashes.
 *
 * Pure: no I/O.
 */
import { fieldReason } from '../live/dead-letter.ts';
import { instrumentOf, type Instruments } from './instruments.ts';
import { gridDecimals, OffGridError, toGrid } from './money.ts';
import type { Fill } from './types.ts';

/** One decoded `<ns>:fills` entry. */
export type FillsEntry = { kind: 'fill'; fill: Fill; parentId?: string } | { kind: 'heartbeat'; ts: bigint } | { kind: 'bad'; reason: string; ts: bigint | null };

const NS_RE = /^\d{1,20}$/;
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const TEXT_RE = /^[\x20-\x7e]{0,128}$/;

/** `n` grid steps as decimal text: exact when the step is a power of ten. */
export function gridText(n: number, step: number): string {
  const d = gridDecimals(step);
  if (d === null) return String(n * step);
  if (d === 0) return String(n * Math.round(step));
  const neg = n < 0;
  const digits = String(Math.abs(n)).padStart(d + 1, '0');
  const int = digits.slice(0, digits.length - d);
  const frac = digits.slice(digits.length - d).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** A fill (on the grid) as `<ns>:fills` fields (decimal text in the instrument's currency and units). */
export function encodeFillFields(f: Fill, ins: Instruments, parentId?: string): string[] {
  const inst = instrumentOf(ins, f.symbol);
  if (!inst) throw new RangeError(`fill ${f.fillId}: unknown symbol ${f.symbol}`);
  return [
    'fill_id', f.fillId, 'account', f.account, 'strategy', f.strategy, 'symbol', f.symbol,
    'side', f.side === 1 ? 'buy' : 'sell', 'qty', gridText(f.qty, inst.lot), 'price', gridText(f.price, inst.tick),
    'fee', gridText(f.fee, ins.moneyGrid), 'order_id', f.orderId, 'ts_event', String(f.tsEvent), 'ts_recv', String(f.tsRecv),
    ...(parentId === undefined ? [] : ['parent_id', parentId]),
  ];
}

/** A heartbeat entry of `<ns>:fills`. */
export const heartbeatFields = (tsRecv: bigint): string[] => ['kind', 'heartbeat', 'ts_recv', String(tsRecv)];

/** Decodes one entry's flat field list; never throws (a bad entry comes back as `bad` with its reason). */
export function decodeFillsEntry(flat: readonly string[], ins: Instruments): FillsEntry {
  const f: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  const tsRecv = f.ts_recv;
  const ts = tsRecv !== undefined && NS_RE.test(tsRecv) ? BigInt(tsRecv) : null;
  const bad = (field: string, why: string): FillsEntry => ({ kind: 'bad', reason: fieldReason(field, f[field], why), ts });
  if (ts === null) return bad('ts_recv', 'must be epoch nanoseconds (a decimal integer)');
  if (f.kind !== undefined) {
    if (f.kind === 'heartbeat') return { kind: 'heartbeat', ts };
    if (f.kind !== 'fill') return bad('kind', 'must be heartbeat or fill (or absent)');
  }
  for (const k of ['fill_id', 'account', 'strategy', 'symbol']) {
    if (f[k] === undefined || f[k] === '' || !TEXT_RE.test(f[k])) return bad(k, 'must be printable text of 1-128 characters');
  }
  if (f.order_id !== undefined && !TEXT_RE.test(f.order_id)) return bad('order_id', 'must be printable text of at most 128 characters');
  if (f.parent_id !== undefined && !TEXT_RE.test(f.parent_id)) return bad('parent_id', 'must be printable text of at most 128 characters');
  if (f.ts_event === undefined || !NS_RE.test(f.ts_event)) return bad('ts_event', 'must be epoch nanoseconds (a decimal integer)');
  const side = f.side === 'buy' || f.side === 'b' || f.side === '1' ? 1 : f.side === 'sell' || f.side === 's' || f.side === '-1' ? -1 : 0;
  if (side === 0) return bad('side', 'must be buy or sell');
  const inst = instrumentOf(ins, f.symbol);
  if (!inst) return bad('symbol', 'unknown symbol (not in the instruments file and no default)');
  const num = (k: string): number | string => {
    const v = f[k];
    if (v === undefined || !DECIMAL_RE.test(v)) return 'must be a decimal number';
    const x = Number(v);
    return Number.isFinite(x) ? x : 'must be a finite number';
  };
  const onGrid = (k: string, step: number, positive: boolean): number | FillsEntry => {
    const x = num(k);
    if (typeof x === 'string') return bad(k, x);
    if (positive && !(x > 0)) return bad(k, 'must be > 0');
    try {
      return toGrid(x, step, k);
    } catch (e) {
      if (e instanceof OffGridError) return bad(k, `not a multiple of ${step} (off the grid)`);
      throw e;
    }
  };
  const qty = onGrid('qty', inst.lot, true);
  if (typeof qty !== 'number') return qty;
  const price = onGrid('price', inst.tick, true);
  if (typeof price !== 'number') return price;
  let fee = 0;
  if (f.fee !== undefined && f.fee !== '') {
    const x = onGrid('fee', ins.moneyGrid, false);
    if (typeof x !== 'number') return x;
    fee = x;
  }
  return {
    kind: 'fill',
    fill: { fillId: f.fill_id, account: f.account, strategy: f.strategy, symbol: f.symbol, side, qty, price, fee, orderId: f.order_id ?? '', tsEvent: BigInt(f.ts_event), tsRecv: ts },
    ...(f.parent_id === undefined ? {} : { parentId: f.parent_id }),
  };
}
