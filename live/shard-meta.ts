/**
 * The deployment's shard count and session table, recorded in `<ns>:meta` by the first feed or worker. Every process
 * that maps symbols to shards (feed, workers, `serve`, the read client) must use the same count:
 * with another one, a symbol hashes to a shard whose streams and latest values are not its own, and
 * reads come back `missing` while everything looks healthy.
 */
import { UserError } from '../core/errors.ts';
import type { SessionTable } from '../core/fold.ts';
import { DEFAULT_SESSION, type SessionKind } from '../core/kernels/market-sessions.ts';
import { parseSessionTable, sessionTableJson } from '../core/session-table.ts';
import { metaKey, type KeyLayout } from './keys.ts';

/** Started with `--shards` other than the deployment's: a usage error (one line, exit 2). */
export class ShardCountMismatchError extends UserError {
  constructor(
    readonly key: string,
    readonly deployed: number,
    readonly given: number,
    who: string,
  ) {
    super(`${key} says this deployment has ${deployed} shards, but ${who} was started with --shards ${given}: use --shards ${deployed}`);
  }
}

/** What the check reads through: ioredis or the read-only RowReader (HMGET only, as the reader ACL allows). */
export interface MetaReader {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
}

/**
 * Checks `keys.shards` against the deployment's recorded shard count; returns the recorded count,
 * or null when none is recorded yet (a new deployment: the caller may record it). `who` names the
 * process in the message (`the feed`, `serve`).
 */
export async function checkShardCount(r: MetaReader, keys: KeyLayout, who: string): Promise<number | null> {
  const key = metaKey(keys);
  const [meta] = await r.hmget(key, 'shards');
  if (meta === null || meta === undefined || meta === '') return null;
  const deployed = Number(meta);
  if (deployed !== keys.shards) throw new ShardCountMismatchError(key, deployed, keys.shards, who);
  return deployed;
}

/** Started with another factor set than the deployment serves: a usage error (one line, exit 2). */
export class FeatureSetMismatchError extends UserError {}

/**
 * Checks a worker's factor set against the one the deployment's workers recorded in `<ns>:meta`
 * (its feature-set version and columns): workers of one deployment must run the same set, or the
 * latest values and output rows of different shards would be made by different factors. Nothing
 * recorded yet (a new deployment) passes. `who` names the process in the message.
 */
export async function checkFeatureSet(r: MetaReader, keys: KeyLayout, fsv: string, columns: readonly string[], who: string): Promise<void> {
  const key = metaKey(keys);
  const [deployed, cols] = await r.hmget(key, 'featureSetVersion', 'columns');
  if (deployed === null || deployed === undefined || deployed === '' || deployed === fsv) return;
  const theirs = (cols ?? '').split(',').filter(Boolean);
  const adds = columns.filter((c) => !theirs.includes(c));
  const drops = theirs.filter((c) => !columns.includes(c));
  const cut = (l: string[]) => (l.length > 4 ? `${l.slice(0, 4).join(', ')} and ${l.length - 4} more` : l.join(', '));
  const how = [adds.length ? `adds ${cut(adds)}` : '', drops.length ? `drops ${cut(drops)}` : ''].filter(Boolean).join('; ') || 'same columns, other parameters or code';
  throw new FeatureSetMismatchError(
    `${key} says this deployment serves feature set ${deployed} (${theirs.length} columns), but ${who} runs ${fsv} (${columns.length} columns; ${how}): start it with the deployment's --factors, --only and --factor-param, or use another --ns`,
  );
}

/** The session table recorded in `<ns>:meta` (field `sessions`), or undefined when none is yet. */
export async function recordedSessions(r: { hget(key: string, field: string): Promise<string | null> }, keys: KeyLayout): Promise<Map<string, SessionKind> | undefined> {
  const key = metaKey(keys);
  const text = await r.hget(key, 'sessions');
  return text === null ? undefined : parseSessionTable(text, `${key} field sessions`);
}

/** The session table another process recorded for the deployment differs from this one's: exit 2. */
export class SessionsMismatchError extends UserError {}

/** What `settleSessions` reads and writes through (ioredis). */
export interface SessionMetaRedis {
  hsetnx(key: string, field: string, value: string): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
}

/** The first symbol on which two tables disagree, in words (a table may list thousands). */
function firstDifference(a: SessionTable, b: SessionTable): string {
  for (const sym of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(sym);
    const y = b.get(sym);
    if (x !== y) return `${sym}: ${x ?? `unlisted (${DEFAULT_SESSION})`} there, ${y ?? `unlisted (${DEFAULT_SESSION})`} here`;
  }
  return 'none';
}

/**
 * Settles the deployment's session table (core/fold.ts SessionTable) in `<ns>:meta` field
 * `sessions`: the first process to come (the feed, from the catalog's sessions.json, or a worker)
 * records its table; every later one uses the recorded table. A process that brings a table of
 * its own (`mine`: the feed's catalog, a worker's `--sessions`) must bring the recorded one, else
 * SessionsMismatchError names the first symbol on which they differ. A worker without a table
 * (`mine` undefined) takes the recorded one, or records the empty table when none is recorded yet
 * (a feed then refuses a catalog with sessions, rather than the worker folding with other ones).
 */
export async function settleSessions(r: SessionMetaRedis, keys: KeyLayout, mine: SessionTable | undefined, who: string): Promise<Map<string, SessionKind>> {
  const key = metaKey(keys);
  let recorded = await r.hget(key, 'sessions');
  if (recorded === null) {
    await r.hsetnx(key, 'sessions', sessionTableJson(mine ?? new Map()));
    recorded = await r.hget(key, 'sessions');
  }
  const table = parseSessionTable(recorded ?? '{"sessions":{}}', `${key} field sessions`);
  if (mine !== undefined && sessionTableJson(mine) !== sessionTableJson(table)) {
    throw new SessionsMismatchError(
      `${key} records another session table than ${who}'s (first difference ${firstDifference(table, mine)}): ` +
        'the first feed or worker of a deployment records it; start the feed first, give the workers the catalog\'s table (--sessions CATALOG), or use a new --ns',
    );
  }
  return table;
}
