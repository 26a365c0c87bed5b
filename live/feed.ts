/**
 * `lockstep feed`: plays a catalog day into Redis Streams in the replayer's order (the same
 * selection and merge as `lockstep replay`), one stream per shard (shard = shardOf(symbol)),
 * heartbeats to every shard so each shard's timers fire from event time. XADDs are pipelined;
 * `--speed N` paces at N x real time exactly as the replayer does. The same wire format
 * (wire.ts) is what a real exchange adapter would publish.
 */
import type { MarketEvent } from '../core/events.ts';
import { EventMerge } from '../replay/merge.ts';
import { Pacer, type Speed } from '../replay/pacer.ts';
import { dateStartNs } from '../replay/catalog.ts';
import { openSelection, type ReplaySelection } from '../replay/run-replay.ts';
import { inputStream, metaKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { shardOf } from './shard.ts';
import { encodeEvent } from './wire.ts';

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
}

export interface FeedSummary {
  events: number;
  entries: number;
  /** Events published twice (`duplicate`). */
  duplicated: number;
  wallMs: number;
}

/** Publishes a catalog selection to the deployment's input streams, in replay order. */
export async function runFeed(opts: FeedOptions, redis?: RedisClient): Promise<FeedSummary> {
  const r = redis ?? (await openRedis(opts.redis, { name: 'lockstep-feed' }));
  const keys: KeyLayout = { ns: opts.ns ?? 'ls', shards: opts.shards };
  const meta = await r.hget(metaKey(keys), 'shards');
  if (meta !== null && Number(meta) !== opts.shards) throw new Error(`${metaKey(keys)} says ${meta} shards; the feed was started with --shards ${opts.shards}`);
  await r.hset(metaKey(keys), 'shards', String(opts.shards));
  const opened = await openSelection(opts);
  const merge = new EventMerge(opened.cursors);
  const pacer = new Pacer(opts.speed ?? 'max', undefined, dateStartNs(opts.date));
  const streams = Array.from({ length: opts.shards }, (_, s) => inputStream(keys, s));
  const max = opts.pipeline ?? 1000;
  const started = performance.now();
  let events = 0;
  let entries = 0;
  let duplicated = 0;
  const dupFraction = opts.duplicate ?? 0;
  if (!(dupFraction >= 0 && dupFraction <= 1)) throw new Error(`duplicate fraction ${opts.duplicate} must be between 0 and 1`);
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
  // one pipeline per shard: on Cluster a pipeline must stay within one slot
  let ps = streams.map(() => r.pipeline());
  let queued = 0;
  const flush = async () => {
    await Promise.all(ps.map((p) => execOrThrow(p)));
    ps = streams.map(() => r.pipeline());
    queued = 0;
  };
  const publish = (e: MarketEvent, fields: string[]) => {
    if (e.kind === 'heartbeat') {
      streams.forEach((st, i) => ps[i].xadd(st, '*', ...fields));
      queued += streams.length;
      entries += streams.length;
    } else {
      const sh = shardOf(e.symbol, opts.shards);
      ps[sh].xadd(streams[sh], '*', ...fields);
      queued++;
      entries++;
    }
  };
  try {
    for (let e = merge.next(); e !== null; e = merge.next()) {
      const wait = pacer.pace(e.tsRecv);
      if (wait) {
        if (queued > 0) await flush();
        await wait;
      }
      const fields = encodeEvent(e);
      publish(e, fields);
      events++;
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
    for (const d of resend) {
      publish(d.e, d.fields);
      duplicated++;
    }
    if (queued > 0) await flush();
  } finally {
    await opened.close();
    if (!redis) r.disconnect();
  }
  return { events, entries, duplicated, wallMs: performance.now() - started };
}

async function execOrThrow(p: ReturnType<RedisClient['pipeline']>): Promise<void> {
  if (p.length === 0) return;
  const res = await p.exec();
  for (const [err] of res ?? []) if (err) throw err;
}
