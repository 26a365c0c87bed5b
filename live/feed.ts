/**
 * `lockstep feed`: plays a catalog day into Redis Streams in the replayer's order (the same
 * selection and merge as `lockstep replay`), one stream per shard (shard = shardOf(symbol)),
 * heartbeats to every shard so each shard's timers fire from event time. XADDs are pipelined;
 * `--speed N` paces at N x real time exactly as the replayer does. The same wire format
 * (wire.ts) is what a real exchange adapter would publish.
 *
 * Exactly once, through Redis faults and restarts of either side:
 * - each shard's stream is a prefix of the shard's events in replay order (one pipeline per shard,
 *   sent only after the previous one succeeded), so its last entry says how far the shard got;
 * - on start the feed reads each shard's last entry and skips every event at or before it in the
 *   replay order (core's compareEvents): a feed killed mid-day and run again resumes where it
 *   stopped, and a feed of a day already published publishes nothing;
 * - a failed or timed-out pipeline is retried with backoff until Redis answers again (for up to
 *   `retryForMs`); before resending, the feed reads what the shard's stream holds after the last
 *   entry it knows was written and drops the entries that did get in. The re-read goes over the
 *   same connection as the timed-out writes, so Redis has executed those before it answers;
 * - a failover (Sentinel promoting a replica) may lose writes the old primary acknowledged but had
 *   not replicated yet. After any failure the feed checks, before its next write to each shard,
 *   that the shard's stream still ends at or after the last entry it knows was written; if not,
 *   it starts over from the streams as they are (the resume above), so the lost events are
 *   published again, once.
 */
import { resolve } from 'node:path';
import { compareEvents, type MarketEvent } from '../core/events.ts';
import { UserError } from '../core/errors.ts';
import { EventMerge } from '../replay/merge.ts';
import { Pacer, type Speed } from '../replay/pacer.ts';
import { dateStartNs, readCatalogSessions } from '../replay/catalog.ts';
import { openSelection, type ReplaySelection } from '../replay/run-replay.ts';
import { feedKey, inputStream, metaKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { isTransientRedisError } from './redis-errors.ts';
import { shardOf } from './shard.ts';
import { checkShardCount, settleSessions } from './shard-meta.ts';
import { fmtClock, fmtCount, StatusLine } from './status-line.ts';
import { compareIds } from './stream-id.ts';
import { decodeEvent, encodeEvent } from './wire.ts';

export interface FeedOptions extends ReplaySelection {
  redis: string;
  ns?: string;
  shards: number;
  speed?: Speed;
  /** Commands per pipeline round trip. */
  pipeline?: number;
  /** Called with each event as it is published (tests, the latency bench). */
  onEvent?: (e: MarketEvent) => void;
  /**
   * Fault injection: publish this fraction of events a second time, 1-50 events later, as a
   * producer retry after a lost reply would (a new stream entry with the same event identity).
   * Deterministic for a given `duplicateSeed`. Workers must drop every such duplicate.
   */
  duplicate?: number;
  duplicateSeed?: number;
  /** Lines for the operator: resuming, Redis failing and answering again. */
  log?: (line: string) => void;
  /** Show progress on stderr (a line rewritten in place on a terminal, one line every 10 s otherwise). */
  status?: boolean;
  /** How long to keep retrying while Redis fails without a single success (default 5 minutes). */
  retryForMs?: number;
  /**
   * Publish only events received at or after this instant (epoch ns), earlier dates' fundamentals
   * included: a feed that joins the session there, as an exchange connection opened mid-day would
   * (unlike `from`, which keeps the earlier fundamentals a replay of the window starts from).
   * Workers started with `--warm-from` take what comes before it from the catalog.
   */
  startNs?: bigint;
  /**
   * A side stream published in merge order with the market events (`lockstep feed --fills`: the
   * fills stream `<ns>:fills`): each entry goes out after every market event received before its
   * `tsRecv` and after those received at the same instant (at one instant, fills follow market
   * data), and every heartbeat is sent to it too (`heartbeat(ts)` gives its fields), so a reader
   * merging it with the shards by watermark is not held back while it is idle. Entries in
   * `tsRecv` order. A rerun of the same selection resumes after the entries the stream holds.
   */
  side?: SideStream;
}

/** See `FeedOptions.side`. */
export interface SideStream {
  key: string;
  entries: readonly { tsRecv: bigint; fields: string[] }[];
  heartbeat: (tsRecv: bigint) => string[];
}

export interface FeedSummary {
  /** Events published by this run (those lost to a failover and published again count once). */
  events: number;
  /** Stream entries written (entries written again after a failover lost them are counted again). */
  entries: number;
  /** Events published twice (`duplicate`). */
  duplicated: number;
  /** Events skipped because the streams already held them (a resumed feed). */
  skipped: number;
  /** Times a pipeline failed and was retried. */
  retries: number;
  /** Times the feed started over because a failover lost entries the old primary had acknowledged. */
  restarts: number;
  wallMs: number;
}

/** Redis kept failing for longer than `retryForMs`: one line, exit 2; running again resumes. */
export class FeedRedisError extends UserError {}

/**
 * A shard's stream ends before the last entry the feed knows was written: Redis lost acknowledged
 * writes (a failover to a replica that had not received them). The feed starts over from the
 * streams as they are; not seen by callers.
 */
class LostWritesError extends UserError {}

const isTransient = isTransientRedisError;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backoff and operator lines while Redis fails; gives up after `retryForMs` without a success. */
class Retrier {
  private since: number | null = null;
  private attempts = 0;
  private lastLog = 0;
  retries = 0;

  constructor(
    private readonly say: (m: string) => void,
    private readonly retryForMs: number,
  ) {}

  /** After a failure: rethrows what a retry cannot fix, else waits its turn. */
  async failed(e: unknown): Promise<void> {
    if (!isTransient(e)) throw e;
    const why = (e as Error).message;
    const now = Date.now();
    this.retries++;
    if (this.since === null) {
      this.since = now;
      this.attempts = 0;
      this.lastLog = now;
      this.say(`feed: Redis failed (${why}); retrying with backoff (no event is published twice)`);
    } else if (now - this.lastLog >= 10_000) {
      this.lastLog = now;
      this.say(`feed: Redis still failing after ${((now - this.since) / 1000).toFixed(0)} s (${why}); retrying`);
    }
    if (now - this.since > this.retryForMs) {
      throw new FeedRedisError(`Redis kept failing for ${((now - this.since) / 1000).toFixed(0)} s (${why}); gave up. Run the same feed again to resume after the last event in the streams`);
    }
    await sleep(Math.min(100 * 2 ** this.attempts++, 2000));
  }

  ok(): void {
    if (this.since === null) return;
    this.say(`feed: Redis answers again after ${((Date.now() - this.since) / 1000).toFixed(1)} s; going on`);
    this.since = null;
  }

  async run<T>(op: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const v = await op();
        this.ok();
        return v;
      } catch (e) {
        await this.failed(e);
      }
    }
  }
}

/** How many of a shard's newest entries are searched for the last event the feed wrote. */
const TAIL_SEARCH = 100;

/**
 * The newest entry of a stream (its ID, null when empty) and the newest event in it (null when
 * none): entries that are not events (written by someone else), or that the workers dead-letter
 * as implausible (a time far ahead: core/plausibility.ts, with the live clock check), are passed
 * over: a hostile entry must not move the resume point past the rest of the day.
 */
async function readTail(r: RedisClient, stream: string): Promise<{ id: string | null; event: MarketEvent | null }> {
  const newest = (await r.xrevrange(stream, '+', '-', 'COUNT', TAIL_SEARCH)) as [string, string[]][];
  if (newest.length === 0) return { id: null, event: null };
  for (const [, flat] of newest) {
    const d = decodeEvent(flat, true);
    if (d.ok) return { id: newest[0][0], event: d.event };
  }
  throw new UserError(`cannot tell where to resume: none of the last ${newest.length} entries of ${stream} is an event`);
}

/** Publishes a catalog selection to the deployment's input streams, in replay order. */
export async function runFeed(opts: FeedOptions, redis?: RedisClient): Promise<FeedSummary> {
  const r = redis ?? (await openRedis(opts.redis, { name: 'lockstep-feed' }));
  const status = opts.status ? new StatusLine(process.stderr) : null;
  const say = (m: string) => {
    status?.clear();
    opts.log?.(m);
  };
  const retry = new Retrier(say, opts.retryForMs ?? 300_000);
  const keys: KeyLayout = { ns: opts.ns ?? 'ls', shards: opts.shards };
  const nShards = opts.shards;
  const streams = Array.from({ length: nShards }, (_, s) => inputStream(keys, s));
  // the side stream (fills) is written like one more shard (same retry and reconcile), after the shards
  const side = opts.side ?? null;
  const outStreams = side ? [...streams, side.key] : streams;
  const dupFraction = opts.duplicate ?? 0;
  if (!(dupFraction >= 0 && dupFraction <= 1)) throw new Error(`duplicate fraction ${opts.duplicate} must be between 0 and 1`);
  // assigned by feedPass (a closure: `as` keeps TypeScript from narrowing it to null here)
  let opened = null as Awaited<ReturnType<typeof openSelection>> | null;
  const started = performance.now();
  let events = 0;
  let entries = 0;
  let duplicated = 0;
  let skipped = 0;
  // the workers fold with the catalog's sessions, as replay does (run-replay.ts)
  const sessions = readCatalogSessions(opts.catalog);
  let restarts = 0;
  /** Events the streams held when this run started (later passes skip what earlier ones wrote too). */
  let skippedAtStart = -1;
  let earlierEntries = 0;
  try {
    // resume only the selection that was being fed: another selection (other symbols, another
    // window) is published whole, whatever the streams already hold
    const selection = JSON.stringify({ catalog: resolve(opts.catalog), date: opts.date, symbols: opts.symbols ?? null, kinds: opts.kinds ?? null, from: opts.from ?? null, to: opts.to ?? null, ...(opts.startNs !== undefined ? { startNs: String(opts.startNs) } : {}), ...(side ? { side: side.key, sideEntries: side.entries.length } : {}) });
    let sameSelection = (await retry.run(() => r.hget(feedKey(keys), 'selection'))) === selection;
    for (;;) {
      try {
        // the records may have been lost with the rest: a restarted pass writes them again
        await retry.run(async () => {
          await checkShardCount(r, keys, 'the feed');
          await r.hset(metaKey(keys), 'shards', String(nShards));
          await r.hset(feedKey(keys), 'selection', selection);
          await settleSessions(r, keys, sessions, `the catalog ${opts.catalog}`);
        });
        await feedPass(sameSelection);
        if (skippedAtStart < 0) skippedAtStart = skipped;
        break;
      } catch (e) {
        if (!(e instanceof LostWritesError)) throw e;
        if (skippedAtStart < 0) skippedAtStart = skipped;
        say(`feed: ${e.message}; starting over after the last event in the streams (each event is published once)`);
        restarts++;
        sameSelection = true;
        earlierEntries += entries;
        await opened?.close();
        opened = null;
      }
    }
    // this run's events: the last pass's, and those of earlier passes that the streams kept
    events += skipped - skippedAtStart;
    skipped = skippedAtStart;
    entries += earlierEntries;
  } finally {
    status?.clear();
    await opened?.close();
    if (!redis) r.disconnect();
  }
  return { events, entries, duplicated, skipped, retries: retry.retries, restarts, wallMs: performance.now() - started };

  /** One pass over the selection: resumes after each shard's last event, then publishes the rest. */
  async function feedPass(sameSelection: boolean): Promise<void> {
    events = 0;
    entries = 0;
    duplicated = 0;
    skipped = 0;
    // where each shard's stream ends: the last ID written (resends are checked after it) and
    // the last event, before or at which nothing is published again
    const lastId: (string | null)[] = [];
    const tails: (MarketEvent | null)[] = [];
    for (const st of streams) {
      const t = await retry.run(() => readTail(r, st));
      lastId.push(t.id);
      tails.push(sameSelection ? t.event : null);
    }
    /** past[s]: the replay has gone beyond shard s's last event (or the stream was empty). */
    const past = tails.map((t) => t === null);
    // the side stream resumes by count: it holds a prefix of this selection's side entries
    // (fills and heartbeats, in the order below), so its length is how many to pass over
    let sideSkip = 0;
    if (side) {
      const [len, last] = await retry.run(async () => [await r.xlen(side.key), ((await r.xrevrange(side.key, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? null] as const);
      lastId.push(last);
      sideSkip = sameSelection ? len : 0;
    }
    let sideNext = 0;
    let allPast = past.every(Boolean);
    let resumeNoted = allPast;
    const noteResume = () => {
      resumeNoted = true;
      if (skipped > 0) say(`resuming: ${fmtCount(skipped)} events already in the streams, skipped`);
    };
    /** Marks the shards `e` goes to that are beyond their stream's last event; true if any is. */
    const anyBeyond = (e: MarketEvent): boolean => {
      let any = false;
      const from = e.kind === 'heartbeat' ? 0 : shardOf(e.symbol, nShards);
      const to = e.kind === 'heartbeat' ? nShards : from + 1;
      for (let s = from; s < to; s++) {
        if (!past[s] && compareEvents(e, tails[s]!) > 0) past[s] = true;
        if (past[s]) any = true;
      }
      if (any && past.every(Boolean)) allPast = true;
      return any;
    };

    opened = await openSelection(opts);
    const merge = new EventMerge(opened.cursors);
    const pacer = new Pacer(opts.speed ?? 'max', undefined, dateStartNs(opts.date));
    const max = opts.pipeline ?? 1000;
    let seed = (opts.duplicateSeed ?? 0x2545f491) >>> 0 || 1;
    const rand = () => {
      // xorshift32: a reproducible fault pattern, not cryptography
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed / 2 ** 32;
    };
    /** Re-sends waiting for their turn: due after `at` events. */
    const resend: { at: number; e: MarketEvent; fields: string[] }[] = [];
    /** Entries waiting to be written, per shard, in order. */
    const pending: string[][][] = outStreams.map(() => []);
    /** The shard's last pipeline may have been partly applied: check before sending again. */
    const unsure = outStreams.map(() => false);
    /** A write failed since the shard's last check (a failover?): check that nothing written was lost. */
    const suspect = outStreams.map(() => false);
    let queued = 0;
    let lastTs = 0n;

    /**
     * Drops the pending entries of shard s that Redis did apply before a failure: those after the
     * last ID known to be written. A worker may meanwhile have trimmed the oldest of them (XTRIM
     * MINID keeps its checkpoint's entry and everything after it, so the newest stays): then the
     * entries still there are matched as the tail of the applied part.
     */
    const reconcile = async (s: number) => {
      const want = pending[s];
      const got = (await r.xrange(outStreams[s], lastId[s] ?? '-', '+', 'COUNT', want.length + 1)) as [string, string[]][];
      const applied = lastId[s] !== null && got.length > 0 && got[0][0] === lastId[s] ? got.slice(1) : got;
      const same = (i: number, fields: string[]) => i >= 0 && i < want.length && want[i].length === fields.length && want[i].every((f, j) => f === fields[j]);
      let n = 0;
      if (applied.length > 0) {
        if (applied.every(([, f], i) => same(i, f))) n = applied.length;
        else {
          // trimmed: the entries found are want[n - found .. n - 1] for the largest such n
          for (let k = want.length; k >= applied.length && n === 0; k--) {
            if (applied.every(([, f], i) => same(k - applied.length + i, f))) n = k;
          }
          if (n === 0) throw new UserError(`${outStreams[s]} holds entries the feed did not write (another producer?): cannot tell which events got in; stop the other producer and run the feed again`);
        }
        lastId[s] = applied[applied.length - 1][0];
        want.splice(0, n);
      }
      unsure[s] = false;
    };
    /** Throws LostWritesError when shard s's stream ends before the last entry known written. */
    const checkKept = async (s: number) => {
      const known = lastId[s];
      if (known !== null) {
        const newest = ((await r.xrevrange(outStreams[s], '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? null;
        if (newest === null || compareIds(newest, known) < 0) {
          throw new LostWritesError(`${outStreams[s]} ends at ${newest ?? '(empty)'}, before entry ${known} that Redis acknowledged: writes were lost (a failover to a replica that had not received them)`);
        }
      }
      suspect[s] = false;
    };
    const sendShard = async (s: number) => {
      if (suspect[s]) await checkKept(s);
      if (unsure[s]) await reconcile(s);
      const batch = pending[s];
      if (batch.length === 0) return;
      unsure[s] = true;
      // one pipeline per shard: on Cluster a pipeline must stay within one slot
      const p = r.pipeline();
      for (const f of batch) p.xadd(outStreams[s], '*', ...f);
      const res = (await p.exec()) ?? [];
      for (const [err] of res) if (err) throw err;
      if (res.length !== batch.length) throw new Error(`pipeline to ${outStreams[s]} answered ${res.length} of ${batch.length} commands`);
      lastId[s] = res[res.length - 1][1] as string;
      pending[s] = [];
      unsure[s] = false;
    };
    const flush = async () => {
      for (;;) {
        const todo: number[] = [];
        for (let s = 0; s < outStreams.length; s++) if (pending[s].length > 0 || unsure[s] || suspect[s]) todo.push(s);
        if (todo.length === 0) break;
        const res = await Promise.allSettled(todo.map(sendShard));
        const failed = res.find((x): x is PromiseRejectedResult => x.status === 'rejected');
        if (!failed) break;
        // a failover loses the unreplicated tail of every shard, not only the one that failed
        if (!(failed.reason instanceof LostWritesError)) suspect.fill(true);
        await retry.failed(failed.reason);
      }
      retry.ok();
      queued = 0;
      status?.update(() => `feed: ${fmtCount(events)} events published (${fmtCount(entries)} stream entries), event time ${fmtClock(lastTs)}, ${fmtCount(Math.round(events / Math.max((performance.now() - started) / 1000, 1e-3)))} events/s${skipped > 0 ? `; ${fmtCount(skipped)} already in the streams, skipped` : ''}`);
    };
    const publish = (e: MarketEvent, fields: string[]) => {
      if (e.kind === 'heartbeat') {
        for (let s = 0; s < nShards; s++) {
          if (!past[s]) continue;
          pending[s].push(fields);
          queued++;
          entries++;
        }
      } else {
        const sh = shardOf(e.symbol, nShards);
        pending[sh].push(fields);
        queued++;
        entries++;
      }
    };

    /** An entry for the side stream, unless the stream holds it already (a resumed feed). */
    const publishSide = (fields: string[]) => {
      if (sideSkip > 0) {
        sideSkip--;
        return;
      }
      pending[nShards].push(fields);
      queued++;
      entries++;
    };
    /** The side stream's entries due before an event at `ts` (those received before it). */
    const sideUpTo = (ts: bigint | null) => {
      if (!side) return;
      while (sideNext < side.entries.length && (ts === null || side.entries[sideNext].tsRecv < ts)) publishSide(side.entries[sideNext++].fields);
    };

    const startNs = opts.startNs;
    for (let e = merge.next(); e !== null; e = merge.next()) {
      if (startNs !== undefined && e.tsRecv < startNs) continue;
      if (side) {
        sideUpTo(e.tsRecv);
        if (e.kind === 'heartbeat') publishSide(side.heartbeat(e.tsRecv));
        if (queued >= max) await flush();
      }
      if (!allPast && !anyBeyond(e)) {
        skipped++;
        continue;
      }
      if (!resumeNoted) noteResume();
      const wait = pacer.pace(e.tsRecv);
      if (wait) {
        if (queued > 0) await flush();
        await wait;
      }
      const fields = encodeEvent(e);
      publish(e, fields);
      events++;
      lastTs = e.tsRecv;
      opts.onEvent?.(e);
      if (dupFraction > 0) {
        if (rand() < dupFraction) {
          const at = events + 1 + Math.floor(rand() * 50);
          let i = resend.length;
          while (i > 0 && resend[i - 1].at > at) i--;
          resend.splice(i, 0, { at, e, fields });
        }
        while (resend.length > 0 && resend[0].at <= events) {
          const d = resend.shift()!;
          publish(d.e, d.fields);
          duplicated++;
        }
      }
      // paced or not, events already due go out together: the queue is flushed before every wait
      // (above), so a paced event is never held back; a round trip per event made a 5000x feed of
      // a 54k-event day take a minute at ~1 ms a round trip
      if (queued >= max) await flush();
    }
    if (!resumeNoted) noteResume();
    // entries received after the day's last market event; the same instant's ones went out after it
    sideUpTo(null);
    for (const d of resend) {
      publish(d.e, d.fields);
      duplicated++;
    }
    await flush();
  }
}
