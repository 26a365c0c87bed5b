/**
 * The execution side's wire formats (pure: no I/O).
 *
 * `<ns>:orders`, one entry per order action of an execution algorithm, decimal text fields:
 *   new:    type=new id parent_id symbol side(buy|sell) qty(units) price(currency; '' = market)
 *           lots ticks (the same, as integers of the instrument's lot and tick: exact) ts (epoch ns:
 *           the event time the algorithm decided it)
 *   cancel: type=cancel id parent_id symbol ts reason
 * An order gateway (or `lockstep gateway --sim`) sends them on and reports the fills on
 * `<ns>:fills` (trading/fills-wire.ts) with `parent_id` and `order_id` set.
 *
 * `<ns>:exec:reports`, the gateway's cancel reports (types.ts CancelReport), each written after the
 * fills of its child it made before the cancel arrived, in the same MULTI:
 *   kind=cancel order_id parent_id symbol lots (taken off the book) result(cancelled|too-late|
 *   unknown|unfilled) ts_event ts_recv
 * or a heartbeat `kind=heartbeat ts_recv=N` (no report received before N will follow), written
 * with every heartbeat of `<ns>:fills`.
 *
 * `<ns>:exec:<parent>:kills`, one entry per kill-switch change the parent's algorithm read:
 *   mode(off|reduce-only|halt) symbol('' = everything) reason ts (epoch ns, its place in event time)
 *
 * The inputs file of a live run (`--inputs-out`, read back by `lockstep execute --fills`): JSON
 * lines `{"stream":"fills"|"reports"|"kill","id":<stream entry id>,"fields":{...}}`, the entries in
 * the order the algorithm read them (another parent's fill or report as a heartbeat at its ts_recv:
 * it moved the stream's clock and nothing else).
 */
import { decodeKillLogFields, encodeKillLogFields } from '../../live/kill-log.ts';
import type { CancelOrder, ChildOrder, KillInput, OrderAction } from '../types.ts';
import { gridText } from '../fills-wire.ts';
import type { CancelReport } from './types.ts';

const NS_RE = /^\d{1,20}$/;
const INT_RE = /^\d{1,15}$/;
const TEXT_RE = /^[\x20-\x7e]{1,128}$/;

/** An order action as `<ns>:orders` fields. */
export function encodeOrderFields(a: OrderAction, tick: number, lot: number): string[] {
  if (a.type === 'cancel') {
    const c = a.cancel;
    return ['type', 'cancel', 'id', c.id, 'parent_id', c.parentId, 'symbol', c.symbol, 'ts', String(c.ts), 'reason', c.reason];
  }
  const o = a.order;
  return [
    'type', 'new', 'id', o.id, 'parent_id', o.parentId, 'symbol', o.symbol, 'side', o.side === 1 ? 'buy' : 'sell',
    'qty', gridText(o.qty, lot), 'price', o.limitPx === null ? '' : gridText(o.limitPx, tick),
    'lots', String(o.qty), 'ticks', o.limitPx === null ? '' : String(o.limitPx), 'ts', String(o.ts),
  ];
}

const fieldsOf = (flat: readonly string[]): Record<string, string> => {
  const f = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  return f;
};

/** One `<ns>:orders` entry back as an action, or why it cannot be read (field, value, reason). */
export function decodeOrderFields(flat: readonly string[]): OrderAction | { bad: string } {
  const f = fieldsOf(flat);
  const bad = (k: string, why: string) => ({ bad: `${k} ${JSON.stringify(f[k] ?? null)}: ${why}` });
  for (const k of ['id', 'parent_id', 'symbol']) if (f[k] === undefined || !TEXT_RE.test(f[k])) return bad(k, 'must be printable text of 1-128 characters');
  if (f.ts === undefined || !NS_RE.test(f.ts)) return bad('ts', 'must be epoch nanoseconds');
  const ts = BigInt(f.ts);
  if (f.type === 'cancel') {
    const cancel: CancelOrder = { id: f.id, parentId: f.parent_id, symbol: f.symbol, ts, reason: f.reason ?? '' };
    return { type: 'cancel', cancel };
  }
  if (f.type !== 'new') return bad('type', 'must be new or cancel');
  const side = f.side === 'buy' ? 1 : f.side === 'sell' ? -1 : 0;
  if (side === 0) return bad('side', 'must be buy or sell');
  if (f.lots === undefined || !INT_RE.test(f.lots) || Number(f.lots) <= 0) return bad('lots', 'must be a whole number of lots > 0');
  if (f.ticks === undefined || (f.ticks !== '' && (!INT_RE.test(f.ticks) || Number(f.ticks) <= 0))) return bad('ticks', "must be a whole number of ticks > 0, or '' (market)");
  const order: ChildOrder = { id: f.id, parentId: f.parent_id, symbol: f.symbol, side, qty: Number(f.lots), limitPx: f.ticks === '' ? null : Number(f.ticks), ts };
  return { type: 'new', order };
}

const RESULTS: readonly CancelReport['result'][] = ['cancelled', 'too-late', 'unknown', 'unfilled'];

/** A cancel report as `<ns>:exec:reports` fields. */
export const encodeReportFields = (c: CancelReport): string[] => [
  'kind', 'cancel', 'order_id', c.orderId, 'parent_id', c.parentId, 'symbol', c.symbol, 'lots', String(c.lots), 'result', c.result,
  'ts_event', String(c.tsEvent), 'ts_recv', String(c.tsRecv),
];

/** One `<ns>:exec:reports` entry: a report, a heartbeat, or why it cannot be read (with its time when readable). */
export type ReportsEntry = { kind: 'report'; report: CancelReport } | { kind: 'heartbeat'; ts: bigint } | { kind: 'bad'; reason: string; ts: bigint | null };

/** Decodes one `<ns>:exec:reports` entry; never throws. */
export function decodeReportsEntry(flat: readonly string[]): ReportsEntry {
  const f = fieldsOf(flat);
  const ts = f.ts_recv !== undefined && NS_RE.test(f.ts_recv) ? BigInt(f.ts_recv) : null;
  const bad = (k: string, why: string): ReportsEntry => ({ kind: 'bad', reason: `${k} ${JSON.stringify(f[k] ?? null)}: ${why}`, ts });
  if (ts === null) return bad('ts_recv', 'must be epoch nanoseconds');
  if (f.kind === 'heartbeat') return { kind: 'heartbeat', ts };
  if (f.kind !== 'cancel') return bad('kind', 'must be cancel or heartbeat');
  for (const k of ['order_id', 'parent_id', 'symbol']) if (f[k] === undefined || !TEXT_RE.test(f[k])) return bad(k, 'must be printable text of 1-128 characters');
  if (f.lots === undefined || !INT_RE.test(f.lots)) return bad('lots', 'must be a whole number of lots ≥ 0');
  if (!RESULTS.includes(f.result as CancelReport['result'])) return bad('result', `must be one of ${RESULTS.join(', ')}`);
  if (f.ts_event === undefined || !NS_RE.test(f.ts_event)) return bad('ts_event', 'must be epoch nanoseconds');
  return { kind: 'report', report: { orderId: f.order_id, parentId: f.parent_id, symbol: f.symbol, lots: Number(f.lots), result: f.result as CancelReport['result'], tsEvent: BigInt(f.ts_event), tsRecv: ts } };
}

/** A kill-switch change as `<ns>:exec:<parent>:kills` fields (the kill log's format, live/kill-log.ts). */
export const encodeKillFields = (k: KillInput): string[] => encodeKillLogFields(k);

/** A kill-log entry back (the adapter wrote it: a bad one is a corrupted record, reported by the caller). */
export const decodeKillFields = (flat: readonly string[]): KillInput | { bad: string } => decodeKillLogFields(fieldsOf(flat));

/** One line of an inputs file. */
export interface InputLine {
  stream: 'fills' | 'reports' | 'kill';
  id: string;
  fields: Record<string, string>;
}

export const inputLine = (stream: InputLine['stream'], id: string, flat: readonly string[]): string => JSON.stringify({ stream, id, fields: { ...fieldsOf(flat) } });

/** The flat field list of an inputs-file line (the stream entry as it was). */
export const flatFields = (fields: Record<string, string>): string[] => Object.entries(fields).flat();
