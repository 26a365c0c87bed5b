/**
 * The cost of durable commits (`lockstep live --durable-replicas 1`) against the default, in the
 * same run: a primary with one replica (local redis-servers), one synthetic day fed into two
 * namespaces, and a worker computing each, alternating default / durable twice so both see the
 * same machine. Also the raw cost of WAIT: a commit-sized write alone, then followed by WAIT 1.
 *
 *   npx tsx bench/durable-commit.ts [--symbols 5] [--events 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateDay } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { LiveWorker } from '../live/worker/index.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const SYMBOLS = arg('symbols', 5);
const EVENTS = arg('events', 10_000);
const DATE = '2024-03-15';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-durable-'));
  const primary = await RedisHarness.start();
  const replica = await RedisHarness.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  try {
    for (;;) {
      const info = spawnSync('redis-cli', ['-p', String(replica.port), 'info', 'replication'], { encoding: 'utf8' }).stdout;
      if (info.includes('master_link_status:up')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await generateDay({ date: DATE, symbols: SYMBOLS, eventsPerSymbol: EVENTS, seed: 7, preset: 'tiny', out: join(dir, 'cat') });
    const rows: string[] = [];
    for (const [i, durable] of [0, 1, 0, 1].entries()) {
      const ns = `b${i}`;
      await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: primary.url, ns, shards: 2 });
      const w = new LiveWorker({ redis: primary.url, ns, shards: 2, consumer: 'w', durableReplicas: durable });
      await w.start();
      const t0 = performance.now();
      await w.run({ idleStopMs: 300 });
      const ms = performance.now() - t0 - 300;
      await w.close();
      const h = w.health();
      rows.push(`${durable ? 'durable (WAIT 1)' : 'default         '}  ${h.applied} events  ${h.commits} commits  ${(ms / 1000).toFixed(2)} s  ${Math.round(h.applied / (ms / 1000))} events/s  ${(ms / h.commits).toFixed(3)} ms/commit`);
    }
    // the raw cost: a commit-sized write (one XADD of ~20 KB) alone, then followed by WAIT 1
    const r = await openRedis(primary.url, { commandTimeoutMs: 10_000 });
    const payload = 'x'.repeat(20_000);
    const lat: Record<string, number[]> = { alone: [], wait: [] };
    for (let k = 0; k < 2000; k++) {
      const mode = k % 2 === 0 ? 'alone' : 'wait';
      const t = performance.now();
      await r.xadd('bench:w', 'MAXLEN', '~', '1000', '*', 'r', payload);
      if (mode === 'wait') await r.call('WAIT', 1, 1000);
      lat[mode].push(performance.now() - t);
    }
    r.disconnect();
    console.log(`durable commits, ${SYMBOLS} symbols x ${EVENTS} events, 2 shards, one worker, primary + 1 replica on this machine`);
    for (const row of rows) console.log(`  ${row}`);
    for (const [mode, xs] of Object.entries(lat)) console.log(`  XADD 20 KB${mode === 'wait' ? ' + WAIT 1' : '         '}  p50 ${pct(xs, 50).toFixed(3)} ms  p99 ${pct(xs, 99).toFixed(3)} ms  (${xs.length} samples)`);
  } finally {
    await primary.close();
    await replica.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
