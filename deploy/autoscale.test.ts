/**
 * The autoscaling of deploy/ played locally: a real redis-server, the real CLI's `lockstep feed`
 * at a rising rate (paced, then as fast as it goes) and `lockstep live --balance` worker
 * processes (the first one started once a burst has queued a backlog), and this test as KEDA plus the HPA: every 250 ms it reads each shard stream's
 * consumer-group lag as KEDA's redis-streams scaler does (live/group-lag.ts), through the ACL
 * user the example Secret documents, and sets the worker count to ceil(total lag / target)
 * within [1, shards], as the ScaledObject's formula does. Workers are added at once and removed
 * (SIGTERM) one at a time after the lag has stayed low for a while (the scale-down stabilization
 * window). At the end the output streams and the served latest values equal the replay's (which
 * a single worker's equal, live/live.test.ts), cell for cell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { desiredReplicas, kedaStreamMetric, type KedaReading } from '../live/group-lag.ts';
import { inputStream, latestKey, type KeyLayout } from '../live/keys.ts';
import { readOutputRows, type OutputRow } from '../live/read-output.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { WORKER_DEFAULTS } from '../live/worker/defaults.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { DEPLOY_DIR } from './manifests.ts';

const DATE = '2024-03-15';
const BIN = new URL('../bin/lockstep.js', import.meta.url).pathname;
/** Lag per worker: the ScaledObject's target (10,000) scaled down to this small day. */
const TARGET = 500;
/** How long the wanted count must stay below the running one before a worker is removed, ms. */
const SCALE_DOWN_WINDOW_MS = 1000;
// the deployment's namespace and shard count (the ACL line below names the namespace's keys)
const keys: KeyLayout = { ns: 'ls', shards: 4 };
let dir: string;
let redis: RedisHarness;
let admin: RedisClient;
let replay: FactorTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-autoscale-'));
  await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rowKey = (symbol: string, source: string, seq: bigint) => `${symbol}/${source}/${seq}`;

/** Output rows that differ from the replay's (missing, extra, doubled or any cell not the same bits). */
function rowMismatches(live: OutputRow[], t: FactorTable): number {
  const cols = Object.keys(t.values);
  const got = new Map(live.map((r) => [rowKey(r.symbol, r.source, r.seq), r.values]));
  let bad = live.length - got.size + Math.abs(got.size - t.seq.length);
  for (let i = 0; i < t.seq.length; i++) {
    const g = got.get(rowKey(t.symbol[i], t.source[i], t.seq[i]));
    if (!g || g.length !== cols.length || cols.some((c, j) => !Object.is(g[j], t.values[c][i]))) bad++;
  }
  return bad;
}

/** Symbols whose served latest values differ from the replay's last row for them. */
async function servedMismatches(t: FactorTable): Promise<number> {
  const last = new Map<string, number>();
  t.symbol.forEach((s, i) => last.set(s, i));
  let bad = 0;
  for (const [sym, i] of last) {
    const h = await admin.hgetall(latestKey(keys, sym));
    const same = (c: string) => (h[c] === '' ? null : Number(h[c])) === t.values[c][i] || (Number.isNaN(Number(h[c])) && Number.isNaN(t.values[c][i] as number));
    if (h._seq !== t.seq[i].toString() || !Object.keys(t.values).every(same)) bad++;
  }
  return bad;
}

const exited = (p: ChildProcess) => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((r) => p.once('exit', (code) => r(code))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('autoscaling on the consumer-group lag (deploy/)', () => {
  it('workers are added as the lag rises and removed (SIGTERM) as it falls; the output equals one worker\'s, cell for cell', async () => {
    // KEDA's Redis user, created with the ACL line deploy/secret.example.yaml documents
    const acl = /\(ACL SETUSER keda on >PASSWORD ([^)]*)\)/.exec(readFileSync(join(DEPLOY_DIR, 'secret.example.yaml'), 'utf8'));
    expect(acl).not.toBeNull();
    await admin.call('ACL', 'SETUSER', 'keda', 'on', '>keda-secret', ...acl![1].split(' '));
    const keda = await openRedis(redis.url.replace('redis://', 'redis://keda:keda-secret@'));
    const streams = Array.from({ length: keys.shards }, (_, s) => inputStream(keys, s));
    const read = (mode: 'lagCount' | 'pendingEntriesCount') => Promise.all(streams.map((stream) => kedaStreamMetric(keda, { stream, consumerGroup: WORKER_DEFAULTS.group, mode })));

    const logs = new Map<string, string>();
    const cli = (name: string, args: string[]) => {
      const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      logs.set(name, '');
      p.stderr!.on('data', (d) => logs.set(name, logs.get(name) + String(d)));
      return p;
    };
    const deployment = ['--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards)];
    const feed = (speed: string) => cli(`feed ${speed}`, ['feed', '--catalog', join(dir, 'cat'), '--date', DATE, ...deployment, '--speed', speed]);
    let n = 0;
    const running: { name: string; p: ChildProcess }[] = [];
    const addWorker = () => {
      const name = `w${n++}`;
      running.push({ name, p: cli(name, ['live', ...deployment, '--balance', '--consumer', name, '--lease-ms', '5000', '--checkpoint-every', '2000', '--checkpoint-ms', '300', '--status-every-ms', '0']) });
    };
    const history: string[] = [];
    const removedCodes: (number | null)[] = [];
    let maxRunning = 0;
    let nullLags = 0;

    try {
      // the rate rises: the feed paced at 1000x real time, then stopped and run again as fast
      // as it goes (it resumes after the last event each stream holds)
      const paced = feed('1000');
      while ((await Promise.all(streams.map((s) => admin.xlen(s)))).every((l) => l === 0)) await sleep(50);
      await sleep(2500);
      paced.kill('SIGTERM');
      await exited(paced);
      const fast = feed('max');
      let feedDone = false;
      const fastExit = exited(fast).then((code) => {
        feedDone = true;
        return code;
      });
      // the first worker (minReplicaCount: 1) starts once the burst has queued 4 × the target:
      // started earlier, on an idle machine one worker reads as fast as this feed writes, so the
      // undelivered lag KEDA reads stayed under the target and nothing scaled (a CI run on a quiet
      // VM); a backlog at start is what a fleet meets at the open or after an outage
      const queued = async () => (await Promise.all(streams.map((s) => admin.xlen(s)))).reduce((a, b) => a + b, 0);
      while (!feedDone && (await queued()) < 4 * TARGET) await sleep(10);
      addWorker();

      let lowSince: number | null = null;
      for (;;) {
        const lags: KedaReading[] = await read('lagCount');
        nullLags += lags.filter((r) => r.lagWasNull).length;
        const want = desiredReplicas(lags, TARGET, 1, keys.shards);
        const total = lags.reduce((s, r) => s + Math.max(r.value, 0), 0);
        if (want > running.length) {
          history.push(`lag ${total}: ${running.length} -> ${want}`);
          while (running.length < want) addWorker();
          lowSince = null;
        } else if (want < running.length) {
          lowSince ??= Date.now();
          // the newest worker that has started (like a ready pod; one stopped while it starts
          // would be killed by the default SIGTERM action before its handler exists, harmless
          // but not the path under test)
          let i = running.length - 1;
          while (i > 0 && !logs.get(running[i].name)!.includes('running shards')) i--;
          if (Date.now() - lowSince >= SCALE_DOWN_WINDOW_MS && i > 0) {
            const [w] = running.splice(i, 1);
            history.push(`lag ${total}: ${running.length + 1} -> ${running.length} (SIGTERM ${w.name})`);
            w.p.kill('SIGTERM');
            removedCodes.push(await exited(w.p));
            lowSince = Date.now();
          }
        } else lowSince = null;
        maxRunning = Math.max(maxRunning, running.length);
        if (feedDone && running.length === 1 && total === 0 && (await read('pendingEntriesCount')).every((r) => r.value === 0)) break;
        await sleep(250);
      }
      expect(await fastExit, logs.get('feed max')).toBe(0);
      const last = running.pop()!;
      last.p.kill('SIGTERM');
      expect(await exited(last.p), logs.get(last.name)).toBe(0);
    } finally {
      for (const w of running) w.p.kill('SIGKILL');
      keda.disconnect();
    }

    console.log(`autoscaler: ${history.join('; ')}`);
    const report = `${history.join('; ')}\n${[...logs].map(([k, v]) => `--- ${k}\n${v.slice(-2000)}`).join('\n')}`;
    expect(maxRunning, report).toBeGreaterThanOrEqual(2); // scaled up on the lag
    expect(removedCodes.length, report).toBeGreaterThanOrEqual(1); // and down as it fell
    expect(removedCodes.every((c) => c === 0), report).toBe(true);
    // the workers' own trimming (XTRIM MINID up to a checkpoint) never made the lag unknown
    expect(nullLags).toBe(0);
    const { rows } = await readOutputRows(admin, keys);
    expect(rows.length).toBe(replay.seq.length);
    expect(rowMismatches(rows, replay), report).toBe(0);
    expect(await servedMismatches(replay)).toBe(0);
    // generous: the run is ~50 s on a 2-core machine at load 10, and CI machines are shared
  }, 300_000);
});
