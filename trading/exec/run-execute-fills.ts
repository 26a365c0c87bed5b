/**
 * `lockstep execute --catalog DIR --date D ... --fills FILE`: the algorithm over a replayed catalog
 * day with a gateway's fills and cancel reports (and the kill-switch changes it read) from a file instead of the
 * simulator, so a live session's child orders are reproduced in replay (parity: the same
 * `--orders` file byte for byte). The fold is exec-fold.ts, the one `lockstep execute --redis`
 * runs; the file is the inputs file a live run writes (`--inputs-out`, exec-wire.ts), in the order
 * it read them.
 *
 * The algorithm reads a market event at its ts_recv (no simulated feed latency: live reads the
 * stream at the events' own times; `feedNs`, in process only, adds the simulator replay's, so its
 * own inputs file gives its orders back) and a fill at its ts_recv. The market events are the symbol's
 * from 00:00 of the date to the end of the window (live must be fed from before the window
 * starts, from the data's first event of the day, for the two to see the same book).
 */
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../core/errors.ts';
import { catalogDates, catalogSymbols } from '../../replay/catalog.ts';
import { EventMerge } from '../../replay/merge.ts';
import { openSelection } from '../../replay/run-replay.ts';
import type { OrderAction } from '../types.ts';
import { drain, initExecFold, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, pushReportsEntry, STREAMS, type ExecFoldState, type ExecOutput } from './exec-fold.ts';
import { execSetup, type ExecSetup } from './exec-setup.ts';
import { execTca } from './exec-tca.ts';
import { decodeKillFields, flatFields, type InputLine } from './exec-wire.ts';
import { OutsideDataError, writeOrders, type ExecuteOptions, type ExecuteResult } from './run-execute.ts';

/** Reads an inputs file: one JSON line per fills-stream entry or kill change; a bad line is one error naming it. */
export function readInputsFile(path: string): InputLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError({ file: path, reason: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  const out: InputLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let j: unknown;
    try {
      j = JSON.parse(line);
    } catch {
      throw new InputError({ file: path, row: i + 1, reason: 'not a JSON line' });
    }
    const l = j as InputLine;
    if (typeof l !== 'object' || l === null || (l.stream !== 'fills' && l.stream !== 'reports' && l.stream !== 'kill')) throw new InputError({ file: path, row: i + 1, field: 'stream', value: JSON.stringify((l as { stream?: unknown } | null)?.stream ?? null), reason: 'must be "fills", "reports" or "kill"' });
    if (typeof l.fields !== 'object' || l.fields === null || Object.values(l.fields).some((v) => typeof v !== 'string')) throw new InputError({ file: path, row: i + 1, field: 'fields', reason: 'must be an object of text fields' });
    out.push({ stream: l.stream, id: String(l.id ?? i + 1), fields: l.fields });
  });
  return out;
}

/** Pushes an inputs file into the fold (fills entries, cancel reports and kill changes, each stream in file order). */
export function pushInputs(st: ExecFoldState, setup: ExecSetup, lines: readonly InputLine[], sink: (o: ExecOutput) => void, file: string): void {
  lines.forEach((l, i) => {
    if (l.stream === 'fills') pushFillsEntry(st, flatFields(l.fields), l.id, setup.ins, sink);
    else if (l.stream === 'reports') pushReportsEntry(st, flatFields(l.fields), l.id, sink);
    else {
      const k = decodeKillFields(flatFields(l.fields));
      if ('bad' in k) throw new InputError({ file, row: i + 1, reason: `kill change: ${k.bad}` });
      pushKill(st, k, sink);
    }
  });
}

/** Runs the parent over the catalog day with the file's fills; the same result shape as the simulator's run. */
export async function runExecuteFills(o: ExecuteOptions & { id?: string; fills: string; feedNs?: bigint }): Promise<ExecuteResult & { deadLetters: string[] }> {
  const setup = await execSetup(o);
  const dates = catalogDates(o.catalog);
  if (!dates.includes(o.date)) throw new UsageError(`--date ${o.date}: catalog ${o.catalog} has no data for it; dates present: ${dates.join(', ') || 'none'}`);
  const symbols = await catalogSymbols(o.catalog, o.date);
  if (symbols !== undefined && !symbols.includes(o.symbol)) throw new UsageError(`--symbol ${o.symbol}: not in the catalog ${o.catalog} on ${o.date}; symbols present: ${symbols.join(', ') || 'none'}`);
  const lines = readInputsFile(o.fills);
  const st = initExecFold(setup.parent, setup.cfg);
  const actions: OrderAction[] = [];
  const deadLetters: string[] = [];
  const sink = (x: ExecOutput) => (x.kind === 'action' ? actions.push(x.action) : deadLetters.push(`${x.tag ?? ''}: ${x.reason}`));
  const { start, end } = setup.parent;
  // the simulator replay's feed latency (its inputs file, run-execute.ts); none live and from the CLI
  const feed = o.feedNs ?? 0n;
  const sel = await openSelection({ catalog: o.catalog, date: o.date, symbols: [o.symbol], kinds: ['book', 'quote', 'trade'] });
  const t0 = performance.now();
  let events = 0;
  let first: bigint | null = null;
  let last: bigint | null = null;
  try {
    const merge = new EventMerge(sel.cursors);
    for (let ev = merge.next(); ev !== null; ev = merge.next()) {
      if (ev.symbol !== o.symbol) continue;
      first ??= ev.tsRecv;
      last = ev.tsRecv;
      if (ev.tsRecv >= end) break;
      events++;
      pushMarket(st, ev, sink, ev.tsRecv + feed);
    }
  } finally {
    await sel.close();
  }
  if (first === null || last === null || start < first - (first % 60_000_000_000n) || last < end - 60_000_000_000n) {
    throw new OutsideDataError(`asked to trade outside the data: window ${o.date} ${o.from}-${o.to} UTC, but ${o.symbol} has ${first === null ? 'no events' : `events from ts_recv ${first} to ${last}`} on ${o.date}`);
  }
  // the market reached the end: the algorithm reads what is left before it, then the end itself
  pushMark(st, MARKET, end, sink);
  pushInputs(st, setup, lines, sink, o.fills);
  // every stream is complete: what is held back for a later instant of another stream comes out
  const after = (st.merge.marks.reduce<bigint>((m, t) => (t !== null && t > m ? t : m), end)) + 1n;
  for (const s of STREAMS) pushMark(st, s, after, sink);
  drain(st, sink);
  const wallMs = performance.now() - t0;
  const fills = st.fills;
  const tca = execTca(st, setup.ins);
  if (o.ordersOut) writeOrders(o.ordersOut, actions, fills);
  const notes = [...setup.notes, `fills from ${o.fills}: ${fills.length} applied, ${deadLetters.length} refused`];
  return { tca, actions, fills, events, wallMs, eventsPerSec: events / (wallMs / 1000), dataSpan: [first, last], notes, deadLetters };
}
