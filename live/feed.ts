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
}

export interface FeedSummary {
  events: number;
  entries: number;
  wallMs: number;
}

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
  // one pipeline per shard: on Cluster a pipeline must stay within one slot
  let ps = streams.map(() => r.pipeline());
  let queued = 0;
  const flush = async () => {
    await Promise.all(ps.map((p) => execOrThrow(p)));
    ps = streams.map(() => r.pipeline());
    queued = 0;
  };
  try {
    for (let e = merge.next(); e !== null; e = merge.next()) {
      const wait = pacer.pace(e.tsRecv);
      if (wait) {
        if (queued > 0) await flush();
        await wait;
      }
      const fields = encodeEvent(e);
      if (e.kind === 'heartbeat') {
        streams.forEach((s, i) => ps[i].xadd(s, '*', ...fields));
        queued += streams.length;
        entries += streams.length;
      } else {
        const s = shardOf(e.symbol, opts.shards);
        ps[s].xadd(streams[s], '*', ...fields);
        queued++;
        entries++;
      }
      events++;
      opts.onEvent?.(e);
      if (queued >= max || (opts.speed !== undefined && opts.speed !== 'max')) await flush();
    }
    if (queued > 0) await flush();
  } finally {
    await opened.close();
    if (!redis) r.disconnect();
  }
  return { events, entries, wallMs: performance.now() - started };
}

async function execOrThrow(p: ReturnType<RedisClient['pipeline']>): Promise<void> {
  if (p.length === 0) return;
  const res = await p.exec();
  for (const [err] of res ?? []) if (err) throw err;
}
