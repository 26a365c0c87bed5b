/**
 * The kill switch: how an operator tells every trading engine at once "do not use these values",
 * for the whole deployment or for some symbols (a broken feed, a bad release, a halted name),
 * without stopping the workers. While it is on, the client and the HTTP API return the values of
 * the killed symbols as null with status `killed` and the reason; the workers keep computing, so
 * switching it off serves current values again at once, with no replay.
 *
 * One key, `<ns>:kill` (keys.ts), holds the state as JSON: `{"all": {reason, by, at, mode?, cause?} | null,
 * "symbols": {SYM: {reason, by, at, mode?, cause?}}}`; absent means off. An entry's `mode` is
 * `halt` (no new order, working ones cancelled) or `reduce-only` (only orders that reduce the
 * position; trading/types.ts KillMode); an entry without one (written before modes existed) is a
 * halt. `cause` is the event that made the automatic kill switch (trading/kill-guard.ts) fire.
 * Switching it off is always a human action (CLI, dashboard): nothing here switches it off on its own. Readers fetch it with the values, in the
 * same round trip, so a switch takes effect on the next read. An unreadable key fails closed: the
 * whole deployment reads as killed, with a reason that says why. Every change is also appended to
 * `{<ns>:kill}:changes` (killChangesKey) in the same atomic step, for the readers that must see each
 * one in order rather than sample the state (the weights driver, portfolio/live.ts).
 */
import type { RedisClient } from './redis-connect.ts';
import { killSwitchKey, SYMBOL_RE } from './keys.ts';
import { UserError } from '../core/errors.ts';
import { isCluster } from './alerts/replies.ts';

/** The two modes an entry can have (`off` is the absence of an entry). */
export type KillEntryMode = 'halt' | 'reduce-only';

/** Which event made the automatic kill switch fire (trading/kill-detector.ts). */
export interface KillCause {
  /** The rule of the policy that fired: a flag column, `spread_blowout`, `stale_feed` or `limit:<name>`. */
  rule: string;
  symbol: string | null;
  /** The triggering event's ts_recv, epoch ns as a decimal string (JSON has no bigint). */
  tsRecv: string;
  /** The input stream entry that carried it, when known (live). */
  streamId?: string;
  /** The value that fired the rule (the flag's 1, the spread, seconds of silence, the breach's value). */
  value: number | null;
}

export interface KillEntry {
  reason: string;
  /** Who switched it on (free text: a user or a runbook id). */
  by: string;
  /** Wall-clock ms when it was switched on. */
  at: number;
  /** Absent: `halt` (how entries were stored before modes existed). */
  mode?: KillEntryMode;
  cause?: KillCause;
}

/** An entry's mode: `halt` unless it says `reduce-only`. */
export const entryMode = (e: KillEntry): KillEntryMode => (e.mode === 'reduce-only' ? 'reduce-only' : 'halt');

export interface KillState {
  all: KillEntry | null;
  symbols: Record<string, KillEntry>;
  /** Set when the stored key could not be read: `all` then kills everything (fail closed). */
  unreadable?: true;
}

export const KILL_OFF: KillState = Object.freeze({ all: null, symbols: Object.freeze({}) as Record<string, KillEntry> });

const isCause = (x: unknown): x is KillCause =>
  typeof x === 'object' && x !== null && typeof (x as KillCause).rule === 'string' && typeof (x as KillCause).tsRecv === 'string';

const isEntry = (x: unknown): x is KillEntry =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as KillEntry).reason === 'string' &&
  typeof (x as KillEntry).by === 'string' &&
  typeof (x as KillEntry).at === 'number' &&
  ((x as KillEntry).mode === undefined || (x as KillEntry).mode === 'halt' || (x as KillEntry).mode === 'reduce-only') &&
  ((x as KillEntry).cause === undefined || isCause((x as KillEntry).cause));

/** The state stored at `<ns>:kill` (null: off). Anything unreadable kills everything, saying why. */
export function parseKillState(text: string | null): KillState {
  if (text === null) return KILL_OFF;
  try {
    const j = JSON.parse(text) as { all?: unknown; symbols?: unknown };
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not a JSON object');
    const symbols = j.symbols ?? {};
    if ((j.all !== null && j.all !== undefined && !isEntry(j.all)) || typeof symbols !== 'object' || symbols === null || Array.isArray(symbols)) throw new Error('unexpected shape');
    for (const e of Object.values(symbols)) if (!isEntry(e)) throw new Error('unexpected shape');
    return { all: (j.all as KillEntry | undefined) ?? null, symbols: ownKeys(symbols as Record<string, KillEntry>) };
  } catch (e) {
    return { all: { reason: `the kill switch key is unreadable (${(e as Error).message}); failing closed`, by: 'lockstep', at: 0 }, symbols: {}, unreadable: true };
  }
}

/**
 * A copy of a symbol record without a prototype: symbols are user input, and `constructor`,
 * `toString` or `__proto__` must be plain keys, not Object.prototype's members.
 */
const ownKeys = (r: Record<string, KillEntry>): Record<string, KillEntry> => Object.assign(Object.create(null) as Record<string, KillEntry>, r);

/**
 * Why `symbol`'s values must not be used now, or null when they may: the deployment's entry or
 * the symbol's, the stronger of the two when both exist (a halt over a reduce-only).
 */
export function killFor(state: KillState, symbol: string): KillEntry | null {
  const own = Object.hasOwn(state.symbols, symbol) ? state.symbols[symbol] : null;
  if (state.all && own && entryMode(state.all) === 'reduce-only' && entryMode(own) === 'halt') return own;
  return state.all ?? own;
}

/** The kill mode in force for `symbol` (trading/types.ts KillMode). */
export function killModeFor(state: KillState, symbol: string): 'off' | KillEntryMode {
  const e = killFor(state, symbol);
  return e === null ? 'off' : entryMode(e);
}

export const isKillOff = (s: KillState) => s.all === null && Object.keys(s.symbols).length === 0;

export interface KillChange {
  on: boolean;
  /** Symbols to switch; none: the whole deployment (on), or everything (off). */
  symbols?: readonly string[];
  reason?: string;
  by?: string;
  /** Injected clock for tests. */
  now?: number;
  /** Switching on: `halt` (default) or `reduce-only`. */
  mode?: KillEntryMode;
  /** Switching on: the event that caused it (the automatic kill switch). */
  cause?: KillCause;
  /**
   * Switching on: never weaken what is in force (the automatic kill switch): a symbol already
   * halted, or under a deployment-wide halt, stays halted; an operator's change (CLI, dashboard)
   * may turn a halt into reduce-only, since easing it is theirs to decide.
   */
  escalateOnly?: boolean;
}

export class KillSwitchError extends UserError {}

/** A key in the kill switch's own Cluster slot (see `KillRecord`): `{<ns>:kill}:<name>`. */
export const killRecordKey = (keys: { ns: string }, name: string): string => `{${killSwitchKey(keys)}}:${name}`;

/**
 * The changes stream `{<ns>:kill}:changes`: one entry per change of `<ns>:kill`, appended by
 * `setKillSwitch` in the same script as the key (so in the kill key's Cluster slot), in the order
 * they were made. Fields: `state` (the key's new JSON; empty: off), `by` and `at` (wall-clock ms).
 * A reader that samples the key can miss a switch turned on and off again between two reads; a
 * reader of this stream sees both (readKillChanges). Capped at about KILL_CHANGES_MAXLEN entries
 * (oldest first out): a reader that falls further behind than that loses the oldest changes and
 * meets the key's state through its fallback.
 */
export const killChangesKey = (keys: { ns: string }): string => killRecordKey(keys, 'changes');

/** About how many changes the stream keeps (XADD MAXLEN ~). */
export const KILL_CHANGES_MAXLEN = 100_000;

/** The state after `change` (pure). */
export function applyKillChange(cur: KillState, change: KillChange): KillState {
  for (const s of change.symbols ?? []) if (!SYMBOL_RE.test(s)) throw new KillSwitchError(`invalid symbol ${JSON.stringify(s)}`);
  if (change.on) {
    if (!change.reason?.trim()) throw new KillSwitchError('a reason is required to switch it on (--reason)');
    if (change.mode !== undefined && change.mode !== 'halt' && change.mode !== 'reduce-only') throw new KillSwitchError(`invalid mode ${JSON.stringify(change.mode)} (halt or reduce-only)`);
    const entry: KillEntry = { reason: change.reason.trim(), by: change.by ?? 'unknown', at: change.now ?? Date.now() };
    // halt is stored as it always was (no field): readers from before modes read it unchanged
    if (change.mode === 'reduce-only') entry.mode = 'reduce-only';
    if (change.cause) entry.cause = change.cause;
    const weaker = (old: KillEntry | null | undefined) => change.escalateOnly === true && old != null && entryMode(old) === 'halt' && entryMode(entry) === 'reduce-only';
    if (!change.symbols?.length) return { all: weaker(cur.all) ? cur.all : entry, symbols: ownKeys(cur.symbols) };
    const symbols = ownKeys(cur.symbols);
    for (const s of change.symbols) if (!weaker(symbols[s]) && !weaker(cur.all)) symbols[s] = entry;
    return { all: cur.all, symbols };
  }
  if (!change.symbols?.length) return KILL_OFF;
  const symbols = ownKeys(cur.symbols);
  for (const s of change.symbols) delete symbols[s];
  return { all: cur.all, symbols };
}

const isWrongType = (e: unknown) => e instanceof Error && e.message.startsWith('WRONGTYPE');

/** Stands for a key of another type than string in the compare-and-set (CAS_LUA computes the same). */
const WRONG_TYPE = '\u0000wrong type';

/** The state a key of another Redis type reads as: unreadable, so every symbol is killed. */
async function wrongTypeState(r: Partial<Pick<RedisClient, 'type'>>, key: string): Promise<KillState> {
  let type = 'another type';
  try {
    if (r.type) type = `a ${await r.type(key)}`;
  } catch {
    // a reader without TYPE rights: the message says less
  }
  return { all: { reason: `${key} holds ${type}, not the kill switch's JSON string; failing closed`, by: 'lockstep', at: 0 }, symbols: {}, unreadable: true };
}

/** Reads the kill switch; a key of the wrong Redis type reads as unreadable (everything killed). */
export async function readKillSwitch(r: Pick<RedisClient, 'get'> & Partial<Pick<RedisClient, 'type'>>, keys: { ns: string }): Promise<KillState> {
  const key = killSwitchKey(keys);
  try {
    return parseKillState(await r.get(key));
  } catch (e) {
    if (isWrongType(e)) return wrongTypeState(r, key);
    throw e;
  }
}

/** One entry of the changes stream: the state the key was set to, in order. */
export interface KillStateChange {
  id: string;
  state: KillState;
}

/** What `readKillChanges` read, in one transaction. */
export interface KillChangesRead {
  /** The key's state now (the fail-closed fallback: what a reader must end at). */
  state: KillState;
  /** The stream's entries after the position given, in order (none on a first read). */
  changes: KillStateChange[];
  /** The position to read after next time: the last entry read, or the stream's last one on a first read (`0-0`: empty). */
  upto: string;
  /** Whether every entry up to the state read was read (not stopped by `count`): only then does `state` follow the last change. */
  complete: boolean;
  /** Why the stream could not be read (then no changes, and the state alone counts). */
  streamError?: string;
}

/** A changes-stream entry's state: an entry without a readable one fails closed, like the key. */
const entryState = (flat: readonly string[]): KillState => {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === 'state') return parseKillState(flat[i + 1] === '' ? null : flat[i + 1]);
  return { all: { reason: 'a kill-switch change without a state field; failing closed', by: 'lockstep', at: 0 }, symbols: {}, unreadable: true };
};

/**
 * The kill switch's state and the changes made after `after` (an entry ID of the changes stream;
 * null: none yet, so only the stream's last ID is taken), read in one MULTI: both keys share the
 * kill key's Cluster slot, and the state read is the state the last change read left (unless
 * `complete` is false, or a writer that does not append, such as an older version or a hand-made
 * SET, changed the key). At most `count` changes per call.
 */
export async function readKillChanges(r: RedisClient, keys: { ns: string }, after: string | null, count = 1000): Promise<KillChangesRead> {
  const key = killSwitchKey(keys);
  const m = r.multi().get(key);
  if (after === null) m.xrevrange(killChangesKey(keys), '+', '-', 'COUNT', 1);
  else m.xrange(killChangesKey(keys), `(${after}`, '+', 'COUNT', count);
  const res = (await m.exec()) ?? [];
  const [getErr, text] = res[0] ?? [new Error('no reply'), null];
  let state: KillState;
  if (getErr) {
    if (!isWrongType(getErr)) throw getErr;
    state = await wrongTypeState(r, key);
  } else state = parseKillState(text as string | null);
  const [xErr, entries] = res[1] ?? [new Error('no reply'), null];
  if (xErr) {
    // a changes key of another type: the state alone counts (as before the stream existed)
    if (!isWrongType(xErr)) throw xErr;
    return { state, changes: [], upto: after ?? '0-0', complete: true, streamError: `${killChangesKey(keys)}: ${xErr.message}` };
  }
  const batch = entries as [string, string[]][];
  if (after === null) return { state, changes: [], upto: batch[0]?.[0] ?? '0-0', complete: true };
  return { state, changes: batch.map(([id, f]) => ({ id, state: entryState(f) })), upto: batch.at(-1)?.[0] ?? after, complete: batch.length < count };
}

/**
 * Compare-and-set: writes ARGV[2] (empty: deletes the key) only if the key still holds ARGV[1]
 * (empty: absent; WRONG_TYPE: a key of another Redis type), and appends the new state to the
 * changes stream KEYS[2] (fields `state` (ARGV[2]), `by` (ARGV[3]), `at` (ARGV[4])) when it differs
 * from the old one. A script rather than WATCH/MULTI, whose watch is per connection: two changes
 * sharing one connection would clear each other's watch and lose an update.
 */
const CAS_LUA = `
local t = redis.call('TYPE', KEYS[1]).ok
local cur = ''
if t == 'string' then cur = redis.call('GET', KEYS[1]) elseif t ~= 'none' then cur = '\\0wrong type' end
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
if cur ~= ARGV[2] then redis.call('XADD', KEYS[2], 'MAXLEN', '~', '${KILL_CHANGES_MAXLEN}', '*', 'state', ARGV[2], 'by', ARGV[3], 'at', ARGV[4]) end
if #KEYS > 2 then redis.call('HSET', KEYS[3], ARGV[5], ARGV[6]) end
return 1`;

/**
 * A hash field written in the same atomic step as the switch (the automatic kill switch records
 * the episode it fired for, so a restarted guard does not fire it again).
 *
 * Redis Cluster: the script touches both keys, so they must share a slot. Name the record's key
 * with `killRecordKey` (`{<ns>:kill}:<name>`): a key without braces is hashed on its whole name, so
 * the hash tag `{<ns>:kill}` puts the record in the kill key's own slot, and the kill key keeps its
 * name (every reader, old or new, reads `<ns>:kill` as before). On a Cluster, a record key outside
 * that tag is refused before anything is written, naming both keys (Redis would refuse the script
 * with CROSSSLOT). Migrating a record key from an older name (`<ns>:kill:fired`) to the tagged one:
 * the old hash is read once more on start (its fields are episodes already acted on) and new
 * records go to the tagged key; on a standalone Redis both names work.
 */
export interface KillRecord {
  key: string;
  field: string;
  value: string;
}

/**
 * Switches it on or off, atomically against a concurrent change (read, change, compare-and-set,
 * retried): two operators killing different symbols at once both stick. Returns the new state.
 * A corrupted key, or one of another Redis type, is replaced (switching on) or cleared (switching
 * everything off).
 */
export async function setKillSwitch(r: RedisClient, keys: { ns: string }, change: KillChange, record?: KillRecord): Promise<KillState> {
  const key = killSwitchKey(keys);
  if (record && isCluster(r) && !record.key.startsWith(`{${key}}`)) throw new KillSwitchError(`the record key ${record.key} is not in the slot of the kill switch ${key} on this Redis Cluster: name it killRecordKey(keys, name) = ${killRecordKey(keys, '<name>')}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    let cur: string | null;
    let parsed: KillState;
    try {
      cur = await r.get(key);
      parsed = parseKillState(cur);
    } catch (e) {
      // a key of another Redis type: replaced (on) or cleared (off), like a corrupted one
      if (!isWrongType(e)) throw e;
      cur = WRONG_TYPE;
      parsed = await wrongTypeState(r, key);
    }
    // an unreadable key reads as killed (fail closed); its replacement starts from off
    const base = parsed.unreadable ? KILL_OFF : parsed;
    const next = applyKillChange(base, change);
    const value = isKillOff(next) ? '' : JSON.stringify(next);
    const args = [key, killChangesKey(keys), ...(record ? [record.key] : []), cur ?? '', value, change.by ?? 'unknown', String(change.now ?? Date.now()), ...(record ? [record.field, record.value] : [])];
    const ok = await r.eval(CAS_LUA, record ? 3 : 2, ...args);
    if (ok === 1) return next;
  }
  throw new KillSwitchError(`${key} kept changing over 50 attempts; try again`);
}

/** One line per switch, for the terminal. */
export function formatKillState(s: KillState): string {
  const when = (e: KillEntry) => `${entryMode(e) === 'reduce-only' ? '(reduce-only) ' : ''}since ${new Date(e.at).toISOString()} by ${e.by}: ${e.reason}${e.cause ? ` [${causeText(e.cause)}]` : ''}`;
  const lines: string[] = [];
  lines.push(s.all ? `ON for every symbol, ${when(s.all)}` : 'off for the deployment');
  for (const [sym, e] of Object.entries(s.symbols).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`ON for ${sym}, ${when(e)}`);
  return lines.join('\n');
}

/** The cause as one phrase: rule, symbol, value and the event's ts_recv (and stream entry). */
export function causeText(c: KillCause): string {
  return `${c.rule}=${c.value ?? 'null'}${c.symbol ? ` on ${c.symbol}` : ''} at ts_recv ${c.tsRecv}${c.streamId ? ` (entry ${c.streamId})` : ''}`;
}
