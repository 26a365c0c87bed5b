/**
 * On-demand rebalances and the kill switch in the live weights driver, with a real redis-server and
 * the real CLI: the feed publishes a generated day to 2 shards, 2 workers compute it and the
 * weights driver follows them. The day is fed in parts (the shards' time then stays where the part
 * ends) and the operator acts between them, so the driver reads each act mid-day: the operator
 * kills one symbol and posts a request (`lockstep weights --request`), then kills everything
 * (reduce-only), then switches the switch off. The driver logs each with the event time it gave it (`<ns>:weights:inputs`);
 * every rebalance excludes exactly the symbols the log has killed before its time, the request
 * runs at its logged time, and the whole log equals the replay `lockstep weights --inputs` of the
 * same day bit for bit. A driver SIGKILLed right after logging a request, restarted after another
 * was posted while it was down, logs each request once and loses none. A symbol killed and
 * switched on again while the driver is stopped (SIGSTOP: no poll between them) is logged as both
 * changes, in order, from the kill switch's changes stream; two requests read in one poll run as
 * two rebalances (W + 1 and W + 2 ns).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import { weightsInputsKey, weightsLogKey, weightsRequestsKey } from '../live/keys.ts';
import { setKillSwitch } from '../live/kill-switch.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { decodeWeightsFields, fieldsObject, type WeightsFields } from '../live/weights-record.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { parseWeightsConfig } from './config.ts';
import { decodeControlFields } from './control.ts';
import type { ControlEvent } from './fold.ts';
import { runLiveWeights } from './live.ts';
import { readWeightsFile } from './replay-weights.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
// no status columns: 'killed' comes from the kill switch alone
const CONFIG = {
  signal: 'return_1m',
  method: 'zscore',
  construction: 'dollar-neutral',
  max_weight: 0.4,
  vol: { column: 'rv_5m', inverse: true },
  turnover_limit: 0.5,
  rebalance: 'every:5m',
  session: 'us-equity',
  stale_after: '2m',
};

let dir = '';
let redis: RedisHarness;
let client: RedisClient;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `ok` (a guard against a hang, not a timing assertion: the run's pace is the feed's). */
async function until(what: string, ok: () => Promise<boolean>, guardMs = 240_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > guardMs) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weights-control-'));
  await generateDay({ date: DATE, symbols: 4, seed: 11, preset: 'tiny', out: join(dir, 'cat') });
  writeFileSync(join(dir, 'w.json'), JSON.stringify(CONFIG));
  const r = cli('replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--out', join(dir, 'out.parquet'));
  if (r.status !== 0) throw new Error(r.stderr);
  redis = await RedisHarness.start();
  client = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
}, 120_000);
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

class Cut extends Error {}
/**
 * The day in the input streams up to `hhmm` (UTC; the feed is stopped there and a later call
 * resumes after what the streams hold, live/feed.ts), or to its end: the shards' time cannot pass
 * what was fed, so the operator acts at a known point of the day whatever the machine's load.
 */
async function feed(ns: string, hhmm?: string): Promise<void> {
  // small pipelines: the events queued when the feed stops are lost to this part (the next resumes with them)
  const cut = hhmm === undefined ? null : BigInt(Date.parse(`${DATE}T${hhmm}:00Z`)) * 1_000_000n;
  try {
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns, shards: 2, pipeline: 16, onEvent: (e) => {
      if (cut !== null && e.tsRecv >= cut) throw new Cut();
    } });
  } catch (e) {
    if (!(e instanceof Cut)) throw e;
  }
}

/** 2 workers over what was fed, until idle (the next ones resume from their checkpoints). */
async function workers(ns: string) {
  const ws = [0, 1].map((s) => new LiveWorker({ redis: redis.url, ns, shards: 2, owned: [s], consumer: `w${s}` }));
  for (const w of ws) await w.start();
  // settled at once (awaited in done): a failed worker must fail the test with its reason
  const running = Promise.all(ws.map((w) => w.run({ idleStopMs: 1500 }))).then(() => null, (e: unknown) => e);
  const done = async () => {
    const e = await running;
    for (const w of ws) await w.close();
    if (e) throw e;
  };
  return { done };
}

const liveLog = async (ns: string): Promise<WeightsFields[]> => ((await client.xrange(weightsLogKey({ ns }), '-', '+')) as [string, string[]][]).map(([, f]) => decodeWeightsFields(fieldsObject(f))!);
const controlLog = async (ns: string) =>
  ((await client.xrange(weightsInputsKey({ ns }), '-', '+')) as [string, string[]][]).map(([id, f]) => {
    const d = decodeControlFields(f);
    if ('bad' in d) throw new Error(`${id}: ${d.bad}`);
    return d;
  });

/** The replay of the day with the inputs file, through the real CLI, grouped by rebalance time. */
async function replayWith(inputs: string, out: string) {
  const r = cli('weights', '--input', join(dir, 'out.parquet'), '--config', join(dir, 'w.json'), '--inputs', inputs, '--out', out);
  expect(r.status, r.stderr).toBe(0);
  const file = await readWeightsFile(out);
  const byT = new Map<string, typeof file>();
  for (const x of file) byT.set(x.ts.toString(), [...(byT.get(x.ts.toString()) ?? []), x]);
  return byT;
}

/** Live records against the replay's: the same times, triggers, symbols, weights (bit for bit), signals, exclusions. */
function expectSame(live: WeightsFields[], replayed: Awaited<ReturnType<typeof replayWith>>): void {
  expect(live.map((r) => r.t.toString())).toEqual([...replayed.keys()]);
  for (const r of live) {
    const rows = replayed.get(r.t.toString())!;
    expect(r.trigger).toBe(rows[0].trigger);
    expect(r.symbols).toEqual(rows.map((x) => x.symbol));
    expect(r.weights).toEqual(rows.map((x) => x.weight));
    expect(r.signal).toEqual(rows.map((x) => x.signal));
    expect(r.excluded).toEqual(rows.map((x) => x.excluded));
  }
}

describe('live weights: requests and the kill switch', () => {
  it('a request rebalances at its logged time and a kill excludes from the next rebalance, live as in a replay given the log', async () => {
    const ns = 'wc';
    const cfg = parseWeightsConfig(JSON.stringify(CONFIG), 'w.json');
    const inputsFile = join(dir, 'inputs.jsonl');
    const driver = runLiveWeights({ url: redis.url, ns, cfg, idleStopMs: 20_000, pollMs: 20, inputsOut: inputsFile }).then((v) => ({ v, e: null }), (e: unknown) => ({ v: null, e }));
    const logged = async () => client.xlen(weightsInputsKey({ ns }));

    await feed(ns, '14:32');
    await (await workers(ns)).done();
    await until('the rebalances to 14:30', async () => (await liveLog(ns)).at(-1)?.t === BigInt(Date.parse(`${DATE}T14:30:00Z`)) * 1_000_000n);
    const victim = (await liveLog(ns))[0].symbols[1];
    await setKillSwitch(client, { ns }, { on: true, symbols: [victim], reason: 'bad prints', by: 'test' });
    const posted = cli('weights', '--request', '--redis', redis.url, '--ns', ns);
    expect(posted.status, posted.stderr).toBe(0);
    expect(posted.stdout).toMatch(new RegExp(`^weights: request \\d+-\\d+ posted to ${ns}:weights:requests for now\\n$`));
    await until('the kill and the request logged', async () => (await logged()) >= 2);
    await feed(ns, '16:02');
    await (await workers(ns)).done();
    await setKillSwitch(client, { ns }, { on: true, reason: 'desk closed', by: 'test', mode: 'reduce-only' });
    await until('the deployment kill logged', async () => (await logged()) >= 3);
    await feed(ns, '17:02');
    await (await workers(ns)).done();
    await setKillSwitch(client, { ns }, { on: false, by: 'test' });
    await until('the switch off logged', async () => (await logged()) >= 5);
    await feed(ns);
    await (await workers(ns)).done();
    const d = await driver;
    if (d.e) throw d.e;

    // the log: the kill of one symbol, the request, the deployment's kill, then both off
    const ctl = await controlLog(ns);
    expect(ctl.map((c) => (c.ev === null ? 'refused' : c.ev.kind === 'kill' ? `kill ${c.ev.symbol ?? 'all'} ${c.ev.mode}` : 'request'))).toEqual([`kill ${victim} halt`, 'request', 'kill all reduce-only', 'kill all off', `kill ${victim} off`]);
    expect(d.v!.logged).toBe(5);
    const events = ctl.map((c) => c.ev!) as ControlEvent[];
    const live = await liveLog(ns);

    // the request ran at its logged time, between grid times
    const req = events[1];
    const asked = live.filter((r) => r.trigger === 'request');
    expect(asked.map((r) => r.t)).toEqual([req.ts]);
    expect(req.ts % (5n * 60_000_000_000n)).not.toBe(0n);

    // every rebalance excludes exactly what the log killed before its time
    const seen = { one: 0, all: 0, none: 0 };
    for (const r of live) {
      const before = events.filter((e) => e.kind === 'kill' && e.ts < r.t) as Extract<ControlEvent, { kind: 'kill' }>[];
      let all = 'off';
      const own = new Map<string, string>();
      for (const k of before) if (k.symbol === null) all = k.mode;
      else own.set(k.symbol, k.mode);
      const killed = r.symbols.map((s) => all !== 'off' || (own.get(s) ?? 'off') !== 'off');
      expect(r.excluded.map((x) => x === 'killed'), `t=${r.t}`).toEqual(killed);
      if (killed.every(Boolean)) seen.all++;
      else if (killed.some(Boolean)) seen.one++;
      else seen.none++;
    }
    // each phase met rebalances: the victim alone, everything, nothing (before the kill and after the switch went off)
    expect(seen.one).toBeGreaterThan(3);
    expect(seen.all).toBeGreaterThan(3);
    expect(seen.none).toBeGreaterThan(3);
    // the victim's weight winds down once killed: never larger in size than at the rebalance before
    const k0 = events[0].ts;
    const vi = live[0].symbols.indexOf(victim);
    const first = live.findIndex((r) => r.t > k0);
    expect(Math.abs(live[first].weights[vi])).toBeLessThanOrEqual(Math.abs(live[first - 1].weights[vi]));

    // the replay given the log (the driver's --inputs-out file) gives the same records, bit for bit
    expect(readFileSync(inputsFile, 'utf8').trim().split('\n')).toHaveLength(5);
    expectSame(live, await replayWith(inputsFile, join(dir, 'w.parquet')));
    // and without it, not: the kills and the request are inputs of the book
    const plainReplay = cli('weights', '--input', join(dir, 'out.parquet'), '--config', join(dir, 'w.json'), '--out', join(dir, 'w0.parquet'));
    expect(plainReplay.status, plainReplay.stderr).toBe(0);
    expect((await readWeightsFile(join(dir, 'w0.parquet'))).filter((x) => x.excluded === 'killed')).toEqual([]);
  }, 480_000);

  it('SIGKILL right after logging a request, and a request posted while the driver is down: each logged once, none lost', async () => {
    const ns = 'wk';
    const driver = (...extra: string[]) => {
      const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'weights', '--redis', redis.url, '--ns', ns, '--config', join(dir, 'w.json'), ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout!.on('data', (b) => (out += b));
      p.stderr!.on('data', (b) => (out += b));
      return { p, out: () => out, exit: (): Promise<number | null> => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (c) => r(c)))) };
    };
    const first = driver();
    await feed(ns, '14:02');
    await (await workers(ns)).done();
    await until('the rebalances to 14:00', async () => (await liveLog(ns)).at(-1)?.t === BigInt(Date.parse(`${DATE}T14:00:00Z`)) * 1_000_000n);
    const r1 = (await client.xadd(weightsRequestsKey({ ns }), '*', 'by', 'test')) as string;
    // killed as soon as the request is logged: before or after the checkpoint that covers it
    await until('the request logged', async () => (await client.xlen(weightsInputsKey({ ns }))) >= 1);
    first.p.kill('SIGKILL');
    await first.exit();
    const r2 = (await client.xadd(weightsRequestsKey({ ns }), '*', 'by', 'test')) as string;
    // the shards move on while the driver is down: r2 is stamped later than r1
    await feed(ns, '14:12');
    await (await workers(ns)).done();
    // idle long enough to outlast the feed and the workers of the rest of the day starting
    const second = driver('--exit-when-idle', '15000', '--inputs-out', join(dir, 'inputs-k.jsonl'));
    // r2 is read once the restarted driver has caught up with the shards: mid-day
    await until('the second request logged', async () => (await client.xlen(weightsInputsKey({ ns }))) >= 2);
    await feed(ns);
    await (await workers(ns)).done();
    expect(await second.exit(), second.out()).toBe(0);
    expect(second.out()).toMatch(/^weights: (resuming from the checkpoint at t=\d+ \(shards after [^;]+; inputs after \S+\)|following)/);

    // each request once in the log, in order, and each ran once at its logged time
    const ctl = await controlLog(ns);
    expect(ctl.map((c) => c.requestId)).toEqual([r1, r2]);
    const live = await liveLog(ns);
    const ts = live.map((r) => r.t);
    expect(new Set(ts).size).toBe(ts.length);
    expect([...ts].sort((a, b) => (a < b ? -1 : 1))).toEqual(ts);
    expect(ctl[0].ev!.ts).toBeLessThan(ctl[1].ev!.ts);
    expect(live.filter((r) => r.trigger === 'request').map((r) => r.t)).toEqual(ctl.map((c) => c.ev!.ts));
    expectSame(live, await replayWith(join(dir, 'inputs-k.jsonl'), join(dir, 'wk.parquet')));
  }, 480_000);

  it('a kill switched on and off between two polls is two control events, and two requests read in one poll are two rebalances', async () => {
    const ns = 'wf';
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'weights', '--redis', redis.url, '--ns', ns, '--config', join(dir, 'w.json'), '--exit-when-idle', '15000', '--inputs-out', join(dir, 'inputs-f.jsonl')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (b) => (out += b));
    p.stderr!.on('data', (b) => (out += b));
    const exit = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    await feed(ns, '14:32');
    await (await workers(ns)).done();
    await until('the rebalances to 14:30', async () => (await liveLog(ns)).at(-1)?.t === BigInt(Date.parse(`${DATE}T14:30:00Z`)) * 1_000_000n);
    const victim = (await liveLog(ns))[0].symbols[1];
    // the driver stopped: whatever it was doing, none of its reads falls between these
    p.kill('SIGSTOP');
    try {
      await setKillSwitch(client, { ns }, { on: true, symbols: [victim], reason: 'bad prints', by: 'test' });
      await setKillSwitch(client, { ns }, { on: false, symbols: [victim], by: 'test' });
      await client.xadd(weightsRequestsKey({ ns }), '*', 'by', 'test');
      await client.xadd(weightsRequestsKey({ ns }), '*', 'by', 'test');
    } finally {
      p.kill('SIGCONT');
    }
    // sampling the state alone, the driver saw nothing of the kill (and the two requests as one)
    await until('the kill, its end and both requests logged', async () => (await client.xlen(weightsInputsKey({ ns }))) >= 4, 60_000);
    await feed(ns);
    await (await workers(ns)).done();
    expect(await exit, out).toBe(0);

    const ctl = await controlLog(ns);
    const w = ctl[0].ev!.ts;
    expect(ctl.map((c) => (c.ev!.kind === 'kill' ? `kill ${c.ev!.symbol} ${c.ev!.mode} ${c.ev!.ts - w}` : `request ${c.ev!.ts - w}`))).toEqual([`kill ${victim} halt 0`, `kill ${victim} off 0`, 'request 1', 'request 2']);
    // each kill entry says where the changes stream was read up to: the off's entry
    const changes = (await client.xrange(`{${ns}:kill}:changes`, '-', '+')) as [string, string[]][];
    expect(changes).toHaveLength(2);
    expect(ctl.slice(0, 2).map((c) => c.changeId)).toEqual([changes[1][0], changes[1][0]]);
    const live = await liveLog(ns);
    expect(live.filter((r) => r.trigger === 'request').map((r) => r.t - w)).toEqual([1n, 2n]);
    // on then off at one time: the later wins, nothing is excluded as killed
    expect(live.some((r) => r.excluded.includes('killed'))).toBe(false);
    expectSame(live, await replayWith(join(dir, 'inputs-f.jsonl'), join(dir, 'wf.parquet')));
  }, 480_000);
});
