/**
 * The weights fold's control log, `<ns>:weights:inputs` (live/keys.ts): what the live driver read
 * from outside the shards' output streams, each with the event time it gave it, in the order it
 * read them. It is the pattern of the execution algorithm's kill log (trading/exec/exec-live.ts):
 * read live at the input's present, log with its event-time place, apply from the log; a restart
 * and a replay read the log, so they meet the same events at the same times.
 *
 * Entries (flat fields, as XADD takes them):
 * - `kind request ts T id ID [at A]`: an on-demand rebalance at T, read from the entry ID of
 *   `<ns>:weights:requests` (which asked for A, or for now). The driver stamps it with A when the
 *   shards have not all reached A, else with W + 1 ns, W the time every shard has reached when it
 *   read the request: the book then holds every row up to W (W + 2 ns, ... for the next requests
 *   read at the same W: one rebalance each, stampRequest).
 * - `kind kill mode M symbol S reason R ts T [change C]`: the kill switch's entry for S (empty: the
 *   whole deployment) became M (off, halt or reduce-only) when read at W = T (the fields of the
 *   execution algorithm's kill log, trading/exec/exec-wire.ts, with `kind`). In force for the
 *   rebalances after T. The driver reads every change of the switch in order from its changes
 *   stream `{<ns>:kill}:changes` (live/kill-switch.ts), so a switch turned on and off between two
 *   reads is two entries at the same T (on, then off: the later wins); C is the stream's entry ID
 *   it had read up to, where a restart reads on.
 * - `kind refused id ID reason R`: a request entry that could not be read; logged so a restart
 *   does not judge it again, and so the log says what became of every request.
 *
 * An inputs file (`lockstep weights --inputs FILE`, written by `--inputs-out`) holds the log as
 * JSON lines `{"id": <log entry id>, "fields": {...}}`.
 *
 * No I/O, clock, randomness or promises.
 */
import { InputError } from '../core/errors.ts';
import { decodeKillLogFields, encodeKillLogFields } from '../live/kill-log.ts';
import { entryMode, type KillState } from '../live/kill-switch.ts';
import type { ControlEvent, KillMode } from './fold.ts';
import { compareText } from './weights-math.ts';

/**
 * One log entry as the fold reads it: an event, or a refused request (nothing for the fold).
 * `changeId`: on a kill entry, the kill switch's changes stream (`{<ns>:kill}:changes`) read up to
 * that entry ID when it was logged (null: not recorded, as before the stream).
 */
export type ControlEntry = { ev: ControlEvent; requestId: string | null; changeId: string | null; reason?: string } | { ev: null; requestId: string | null; changeId: null; reason: string };

const NS_RE = /^-?\d{1,20}$/;
const ID_RE = /^\d+-\d+$/;

const fieldsOf = (flat: readonly string[]): Record<string, string> => {
  const f: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  return f;
};

/** A request's log fields. */
export const requestFields = (ts: bigint, requestId: string, at: bigint | null): string[] => ['kind', 'request', 'ts', String(ts), 'id', requestId, ...(at === null ? [] : ['at', String(at)])];

/** A kill change's log fields (those of the execution algorithm's kill log, plus `kind`, and `change`: the changes stream's position). */
export const killFields = (ts: bigint, symbol: string | null, mode: KillMode, reason: string, change: string | null = null): string[] => ['kind', 'kill', ...encodeKillLogFields({ mode, symbol, reason, ts }), ...(change === null ? [] : ['change', change])];

/** A refused request's log fields. */
export const refusedFields = (requestId: string, reason: string): string[] => ['kind', 'refused', 'id', requestId, 'reason', reason];

/** A log entry back, or why it cannot be read (the driver wrote it: a bad one is a damaged log, reported by the caller). */
export function decodeControlFields(flat: readonly string[]): ControlEntry | { bad: string } {
  const f = fieldsOf(flat);
  const ts = (): bigint | { bad: string } => (f.ts !== undefined && NS_RE.test(f.ts) ? BigInt(f.ts) : { bad: `ts ${JSON.stringify(f.ts ?? null)}: must be epoch nanoseconds` });
  const id = f.id !== undefined && ID_RE.test(f.id) ? f.id : null;
  if (f.kind === 'request') {
    const t = ts();
    if (typeof t !== 'bigint') return t;
    return { ev: { kind: 'request', ts: t }, requestId: id, changeId: null };
  }
  if (f.kind === 'kill') {
    const k = decodeKillLogFields(f);
    if ('bad' in k) return k;
    const change = f.change !== undefined && ID_RE.test(f.change) ? f.change : null;
    return { ev: { kind: 'kill', ts: k.ts, symbol: k.symbol, mode: k.mode }, requestId: null, changeId: change, reason: k.reason };
  }
  if (f.kind === 'refused') return { ev: null, requestId: id, changeId: null, reason: f.reason ?? '' };
  return { bad: `kind ${JSON.stringify(f.kind ?? null)}: must be request, kill or refused` };
}

/**
 * A request entry of `<ns>:weights:requests` stamped at the driver's present `w` (every shard has
 * reached it): the log fields to write. `at` (epoch ns), when given, asks for that time; one
 * already reached runs as a request without it: at the first time after w that `taken` says no
 * other request has (w + 1 ns, then w + 2 ns, ...), so two requests read at the same w make two
 * rebalances, in the order read (a book at w + 2 holds every row before it, as at w + 1). Two
 * requests for the same time not yet reached share its rebalance. A bad `at` is refused, saying why.
 */
export function stampRequest(requestId: string, flat: readonly string[], w: bigint, taken: (t: bigint) => boolean = () => false): string[] {
  const f = fieldsOf(flat);
  const free = (): bigint => {
    let t = w + 1n;
    while (taken(t)) t++;
    return t;
  };
  if (f.at === undefined || f.at === '') return requestFields(free(), requestId, null);
  if (!NS_RE.test(f.at)) return refusedFields(requestId, `at ${JSON.stringify(f.at)}: must be epoch nanoseconds`);
  const at = BigInt(f.at);
  return requestFields(at > w ? at : free(), requestId, at);
}

/**
 * The kill changes that take the fold's view (fold.ts killView) to the switch as read now, stamped
 * at `w`: the deployment's entry first, then each symbol's in code-unit order. An unreadable switch
 * reads as a halt of everything (kill-switch.ts: it fails closed).
 */
export function killChanges(view: { all: KillMode; symbols: ReadonlyMap<string, KillMode> }, now: KillState, w: bigint, upto: string | null = null): string[][] {
  const out: string[][] = [];
  const all: KillMode = now.all === null ? 'off' : entryMode(now.all);
  if (all !== view.all) out.push(killFields(w, null, all, now.all?.reason ?? 'switched off', upto));
  const names = new Set([...view.symbols.keys(), ...Object.keys(now.symbols)]);
  for (const s of [...names].sort(compareText)) {
    const e = Object.hasOwn(now.symbols, s) ? now.symbols[s] : null;
    const m: KillMode = e === null ? 'off' : entryMode(e);
    if (m !== (view.symbols.get(s) ?? 'off')) out.push(killFields(w, s, m, e?.reason ?? 'switched off', upto));
  }
  return out;
}

/** The modes a kill-switch state puts in force (an unreadable one: a halt of everything, kill-switch.ts). */
export function killModes(now: KillState): { all: KillMode; symbols: Map<string, KillMode> } {
  const symbols = new Map<string, KillMode>();
  for (const [s, e] of Object.entries(now.symbols)) symbols.set(s, entryMode(e));
  return { all: now.all === null ? 'off' : entryMode(now.all), symbols };
}

/**
 * The kill changes to log for one read of the switch (live/kill-switch.ts readKillChanges), all
 * stamped at `w`: each change of the stream in order, diffed against the state the one before left
 * (so a symbol switched on and off again between two reads is two changes: on, then off), then,
 * when `now` is given (the read reached the state's own change), the switch's state itself against
 * what the changes left: a change made by a writer that does not append to the stream (an older
 * version, a hand-made SET, an unreadable key) is still met, failing closed. Each entry records the
 * stream's position `upto`, so a restart reads on after it.
 */
export function killLogEntries(view: { all: KillMode; symbols: ReadonlyMap<string, KillMode> }, changes: readonly KillState[], now: KillState | null, w: bigint, upto: string | null): string[][] {
  const out: string[][] = [];
  let v = view;
  for (const s of now === null ? changes : [...changes, now]) {
    out.push(...killChanges(v, s, w, upto));
    v = killModes(s);
  }
  return out;
}

/** One line of an inputs file. */
export interface ControlLine {
  id: string;
  fields: Record<string, string>;
}

/** A log entry as a line of an inputs file. */
export const controlLine = (id: string, flat: readonly string[]): string => JSON.stringify({ id, fields: { ...fieldsOf(flat) } });

/** An inputs file's text as control events in file order; a bad line is one error naming the file, its row and field. */
export function parseControlLines(text: string, file: string): ControlEvent[] {
  const out: ControlEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let j: unknown;
    try {
      j = JSON.parse(line);
    } catch {
      throw new InputError({ file, row: i + 1, reason: 'not a JSON line (the inputs file holds one {"id", "fields"} object per line)' });
    }
    const fields = (j as Partial<ControlLine> | null)?.fields;
    if (typeof fields !== 'object' || fields === null || Object.values(fields).some((v) => typeof v !== 'string')) throw new InputError({ file, row: i + 1, field: 'fields', reason: 'must be an object of text fields' });
    const d = decodeControlFields(Object.entries(fields).flat());
    if ('bad' in d) throw new InputError({ file, row: i + 1, reason: d.bad });
    if (d.ev !== null) out.push(d.ev);
  });
  return out;
}
