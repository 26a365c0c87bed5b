/**
 * The kill switch: how an operator tells every trading engine at once "do not use these values",
 * for the whole deployment or for some symbols (a broken feed, a bad release, a halted name),
 * without stopping the workers. While it is on, the client and the HTTP API return the values of
 * the killed symbols as null with status `killed` and the reason; the workers keep computing, so
 * switching it off serves current values again at once, with no replay.
 *
 * One key, `<ns>:kill` (keys.ts), holds the state as JSON: `{"all": {reason, by, at} | null,
 * "symbols": {SYM: {reason, by, at}}}`; absent means off. Readers fetch it with the values, in the
 * same round trip, so a switch takes effect on the next read. An unreadable key fails closed: the
 * whole deployment reads as killed, with a reason that says why.
 */
import type { RedisClient } from './redis-connect.ts';
import { killSwitchKey, SYMBOL_RE } from './keys.ts';
import { UserError } from '../core/errors.ts';

export interface KillEntry {
  reason: string;
  /** Who switched it on (free text: a user or a runbook id). */
  by: string;
  /** Wall-clock ms when it was switched on. */
  at: number;
}

export interface KillState {
  all: KillEntry | null;
  symbols: Record<string, KillEntry>;
  /** Set when the stored key could not be read: `all` then kills everything (fail closed). */
  unreadable?: true;
}

export const KILL_OFF: KillState = Object.freeze({ all: null, symbols: Object.freeze({}) as Record<string, KillEntry> });

const isEntry = (x: unknown): x is KillEntry =>
  typeof x === 'object' && x !== null && typeof (x as KillEntry).reason === 'string' && typeof (x as KillEntry).by === 'string' && typeof (x as KillEntry).at === 'number';

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

/** Why `symbol`'s values must not be used now, or null when they may. */
export function killFor(state: KillState, symbol: string): KillEntry | null {
  return state.all ?? (Object.hasOwn(state.symbols, symbol) ? state.symbols[symbol] : null);
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
}

export class KillSwitchError extends UserError {}

/** The state after `change` (pure). */
export function applyKillChange(cur: KillState, change: KillChange): KillState {
  for (const s of change.symbols ?? []) if (!SYMBOL_RE.test(s)) throw new KillSwitchError(`invalid symbol ${JSON.stringify(s)}`);
  if (change.on) {
    if (!change.reason?.trim()) throw new KillSwitchError('a reason is required to switch it on (--reason)');
    const entry: KillEntry = { reason: change.reason.trim(), by: change.by ?? 'unknown', at: change.now ?? Date.now() };
    if (!change.symbols?.length) return { all: entry, symbols: ownKeys(cur.symbols) };
    const symbols = ownKeys(cur.symbols);
    for (const s of change.symbols) symbols[s] = entry;
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

/**
 * Compare-and-set: writes ARGV[2] (empty: deletes the key) only if the key still holds ARGV[1]
 * (empty: absent; WRONG_TYPE: a key of another Redis type). A script rather than WATCH/MULTI, whose watch is per connection: two changes
 * sharing one connection would clear each other's watch and lose an update.
 */
const CAS_LUA = `
local t = redis.call('TYPE', KEYS[1]).ok
local cur = ''
if t == 'string' then cur = redis.call('GET', KEYS[1]) elseif t ~= 'none' then cur = '\\0wrong type' end
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1`;

/**
 * Switches it on or off, atomically against a concurrent change (read, change, compare-and-set,
 * retried): two operators killing different symbols at once both stick. Returns the new state.
 * A corrupted key, or one of another Redis type, is replaced (switching on) or cleared (switching
 * everything off).
 */
export async function setKillSwitch(r: RedisClient, keys: { ns: string }, change: KillChange): Promise<KillState> {
  const key = killSwitchKey(keys);
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
    const ok = await r.eval(CAS_LUA, 1, key, cur ?? '', isKillOff(next) ? '' : JSON.stringify(next));
    if (ok === 1) return next;
  }
  throw new KillSwitchError(`${key} kept changing over 50 attempts; try again`);
}

/** One line per switch, for the terminal. */
export function formatKillState(s: KillState): string {
  const when = (e: KillEntry) => `since ${new Date(e.at).toISOString()} by ${e.by}: ${e.reason}`;
  const lines: string[] = [];
  lines.push(s.all ? `ON for every symbol, ${when(s.all)}` : 'off for the deployment');
  for (const [sym, e] of Object.entries(s.symbols).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`ON for ${sym}, ${when(e)}`);
  return lines.join('\n');
}
