/**
 * A/B of the live worker's sustainable rate: two checkouts' workers (`lockstep live` from each
 * root) drain the same backlog, alternating round by round in one private Redis, so both see the
 * same machine. The backlog goes in with explicit entry IDs, so both workers' outputs can be
 * compared byte for byte (every output row, every latest-value field but the computed-at time).
 *
 *   node --import tsx bench/live-bench-ab.ts --a /path/to/before --b /path/to/after [--events 300000] [--rounds 3]
 *
 * Prints per round the drain rate after start-up and the worker's CPU time per event after
 * start-up (utime + stime from /proc, Linux only; 10 ms ticks), then the medians of B ÷ A, and whether the outputs were equal.
 * On a loaded machine the CPU time per event is the steadier figure: the rate also measures the
 * queue for a core.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inputStream, outputStream, type KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { DATE, drained, loadEvents, startWorker, stopWorker } from './live-bench.ts';
import type { MarketEvent } from '../core/events.ts';

/** The worker's CPU seconds so far (user + system), or NaN off Linux. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function load(r: RedisClient, keys: KeyLayout, events: readonly MarketEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(i + 5000, events.length); j++) {
      const e = events[j];
      p.xadd(inputStream(keys, shardOf(e.symbol, keys.shards)), `${j + 1}-1`, ...encodeEvent(e));
    }
    await p.exec();
  }
}

/** A digest of everything the worker wrote that a reader sees: output rows in order, latest hashes but `_at`. */
async function outputDigest(r: RedisClient, keys: KeyLayout): Promise<{ digest: string; rows: number; latest: number }> {
  const h = createHash('sha256');
  // LOCKSTEP_AB_DUMP=DIR: what is hashed, as text, to find where two runs differ
  const dump: string[] | null = process.env.LOCKSTEP_AB_DUMP ? [] : null;
  const upd = (t: string) => {
    h.update(t);
    dump?.push(t);
  };
  let rows = 0;
  for (let s = 0; s < keys.shards; s++) {
    const entries = await r.xrange(outputStream(keys, s), '-', '+');
    for (const [, f] of entries) {
      for (let i = 0; i + 1 < f.length; i += 2) {
        if (f[i] !== 'rows') continue;
        upd(f[i + 1] + '\n');
        rows += f[i + 1].split('\n').length;
      }
    }
  }
  const latestKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, ks] = await r.scan(cursor, 'MATCH', `${keys.ns}:latest:*`, 'COUNT', 1000);
    cursor = next;
    latestKeys.push(...ks);
  } while (cursor !== '0');
  latestKeys.sort();
  for (const k of latestKeys) {
    const all = await r.hgetall(k);
    upd(k.replaceAll(keys.ns, "NS"));
    for (const f of Object.keys(all).sort()) if (f !== '_at') upd(`\0${f}=${f === '_row' ? all[f].replace(/^((?:[^|]*\|){4})[^|]*/, '$1') : all[f]}`);
  }
  if (dump !== null) writeFileSync(join(process.env.LOCKSTEP_AB_DUMP!, `${keys.ns}.txt`), dump.join('\n'));
  return { digest: h.digest('hex').slice(0, 16), rows, latest: latestKeys.length };
}

async function drainOnce(url: string, root: string, ns: string, events: readonly MarketEvent[]) {
  const keys: KeyLayout = { ns, shards: 4 };
  const r = await openRedis(url, { name: 'ab-backlog', commandTimeoutMs: 60_000 });
  await load(r, keys, events);
  const t0 = performance.now();
  const worker = startWorker(url, keys, 'ab-drain', [], root);
  let startedAt = NaN;
  let cpu0 = NaN;
  void worker.running.then(() => {
    startedAt = performance.now();
    cpu0 = cpuSeconds(worker.proc.pid!);
  });
  let doneAt = NaN;
  let cpu = NaN;
  while (performance.now() - t0 < 300_000) {
    await new Promise((res) => setTimeout(res, 20));
    if (await drained(r, keys)) {
      doneAt = performance.now();
      cpu = cpuSeconds(worker.proc.pid!);
      break;
    }
  }
  await stopWorker(worker);
  if (Number.isNaN(doneAt)) throw new Error(`${root}: the worker did not drain its backlog within 300 s`);
  const out = await outputDigest(r, keys);
  await r.flushdb();
  r.disconnect();
  return { perSec: events.length / ((doneAt - startedAt) / 1000), cpuUsPerEvent: ((cpu - cpu0) / events.length) * 1e6, ...out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: { a: { type: 'string' }, b: { type: 'string' }, events: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' }, dir: { type: 'string', default: 'out/bench' } } });
  if (!a.a || !a.b) throw new Error('usage: live-bench-ab.ts --a ROOT --b ROOT [--events N] [--rounds N] [--dir out/bench]');
  const roots = { A: resolve(a.a), B: resolve(a.b) };
  const catalog = join(resolve(a.dir!), 'catalog-day');
  if (!existsSync(join(catalog, '.complete'))) {
    mkdirSync(resolve(a.dir!), { recursive: true });
    const { generateDay } = await import('../datasets/generate.ts');
    const g = await generateDay({ date: DATE, symbols: 50, seed: 42, preset: 'day', out: catalog, partBy: { buckets: 4 } });
    writeFileSync(join(catalog, '.complete'), JSON.stringify({ events: g.total }));
  }
  const events = (await loadEvents(catalog, Number(a.events) * 1.2)).filter((e) => e.kind !== 'heartbeat').slice(0, Number(a.events));
  const redis = await RedisHarness.start();
  const ratios: { rate: number; cpu: number }[] = [];
  let same = true;
  try {
    for (let round = 0; round < Number(a.rounds); round++) {
      // alternate which goes first: a round's second run gets a warmer machine
      const order = round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const);
      const res: Record<string, Awaited<ReturnType<typeof drainOnce>>> = {};
      for (const side of order) {
        res[side] = await drainOnce(redis.url, roots[side], `ab${round}${side}`, events);
        const x = res[side];
        console.log(`round ${round + 1} ${side}: ${x.perSec.toFixed(0)} events/s after start-up, worker CPU ${x.cpuUsPerEvent.toFixed(2)} µs/event, ${x.rows} rows, ${x.latest} latest keys, output ${x.digest}`);
      }
      if (res.A.digest !== res.B.digest) same = false;
      ratios.push({ rate: res.B.perSec / res.A.perSec, cpu: res.B.cpuUsPerEvent / res.A.cpuUsPerEvent });
    }
  } finally {
    await redis.close();
  }
  console.log(`B ÷ A, median of ${ratios.length} rounds: rate ${median(ratios.map((r) => r.rate)).toFixed(3)}x, worker CPU per event ${median(ratios.map((r) => r.cpu)).toFixed(3)}x; outputs ${same ? 'identical' : 'DIFFER'}`);
  if (!same) process.exitCode = 1;
}

await main();
