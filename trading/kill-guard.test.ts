/**
 * The automatic kill switch live, with a real redis-server: the feed publishes a generated day
 * (whose planned price jump is the injected crash) to 2 shards while 2 workers and the guard run
 * at the same time. The jump trips the collar and the guard halts that symbol, with the reason
 * and the triggering event; every episode the guard acted on is one `lockstep kill-policy`
 * reports for the same day, at the same event (parity of the triggers); a restarted guard (the
 * real CLI) acts on none again; switching off stays with the operator.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay, type GenerateResult } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import { alertsStateKey, inputStream } from '../live/keys.ts';
import { readKillSwitch, killModeFor } from '../live/kill-switch.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { parseRow } from '../live/read-output.ts';
import { packValues } from '../live/worker/row-format.ts';
import { decodeDetectorRow, firedKey, runKillGuard, type FiredTrigger } from './kill-guard.ts';
import { parseKillPolicy } from './kill-policy.ts';
import { replayKillPolicy } from './kill-replay.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
const POLICY = {
  flags: { price_collar_flag: 'kill-symbol', return_zscore_flag: 'alert', quote_crossed_flag: 'reduce-only-symbol' },
  spread_blowout: { k: 8, window: 200, action: 'reduce-only-symbol' },
  stale_feed: { after: '60s', action: 'alert' },
};
const keys = { ns: 'kg', shards: 2 };

let dir = '';
let redis: RedisHarness;
let client: RedisClient;
let gen: GenerateResult;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kill-guard-'));
  gen = await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill guard (live)', () => {
  it('feed + 2 workers + guard: the crash halts its symbol with the cause, the same triggers as the replay, none again after a restart', async () => {
    const policy = parseKillPolicy(JSON.stringify(POLICY), 'kill.json');
    const fired: FiredTrigger[] = [];
    const lines: string[] = [];
    const guard = runKillGuard({ url: redis.url, ns: keys.ns, policy, idleStopMs: 4000, pollMs: 10, onFired: (f) => fired.push(f), log: (l) => lines.push(l) });
    const guardDone = guard.then((v) => ({ v, e: null }), (e: unknown) => ({ v: null, e }));
    const feeding = runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const workers = [0, 1].map((s) => new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, owned: [s], consumer: `w${s}` }));
    for (const w of workers) await w.start();
    // on a loaded machine the feed can take seconds to publish its first event: a worker's idle
    // stop must not count before it (the guard, idle only once rows came, would then wait forever)
    const fed = feeding.then(() => true);
    while (!(await Promise.race([fed, new Promise((r) => setTimeout(() => r(false), 50))])) && (await client.exists(inputStream(keys, 0), inputStream(keys, 1))) === 0);
    await Promise.all([feeding, ...workers.map((w) => w.run({ idleStopMs: 5000 }))]);
    for (const w of workers) await w.close();
    const g = await guardDone;
    if (g.e) throw g.e;
    const summary = g.v!;

    // the crash: the jump symbol is halted, with the reason and the event that caused it
    const sym = gen.plan.jump.symbol;
    const kill = await readKillSwitch(client, keys);
    expect(kill.all).toBeNull();
    expect(killModeFor(kill, sym)).toBe('halt');
    const entry = kill.symbols[sym];
    expect(entry.by).toBe('lockstep-kill-guard');
    expect(entry.reason).toMatch(new RegExp(`^automatic \\(kill-symbol\\): price_collar_flag = 1 on ${sym} \\(trade seq \\d+\\)$`));
    expect(entry.cause).toMatchObject({ rule: 'price_collar_flag', symbol: sym, value: 1 });
    expect(entry.cause!.streamId).toMatch(/^\d+-\d+$/);
    expect(BigInt(entry.cause!.tsRecv)).toBeGreaterThanOrEqual(gen.plan.jump.atNs);

    // parity of the triggers: the replay of the same day reports the same episodes (rule, symbol, event)
    const replay = await replayKillPolicy({ catalog: join(dir, 'cat'), date: DATE, policy });
    const live = Object.keys(await client.hgetall(firedKey(keys))).sort();
    expect(live).toEqual(replay.triggers.map((t) => t.episode).sort());
    expect(fired.map((f) => f.trigger.episode).sort()).toEqual(live);
    expect(summary.fired).toBe(live.length);
    const collar = replay.triggers.find((t) => t.rule === 'price_collar_flag' && t.symbol === sym && t.ts >= gen.plan.jump.atNs)!;
    expect(entry.cause!.tsRecv).toBe(collar.ts.toString());
    // the first collar trigger of the symbol is the one in force (later episodes do not replace a halt's cause... they re-halt it)
    expect(fired.some((f) => f.trigger.episode === collar.episode && f.arrivalMs !== null && f.onMs >= f.arrivalMs)).toBe(true);
    expect(lines.some((l) => new RegExp(`^kill-guard: kill-symbol ${sym} price_collar_flag=1 at .* \\(entry \\d+-\\d+\\); on -?\\d+ ms after the event's arrival \\(-?\\d+ ms after its row's commit\\)$`).test(l))).toBe(true);
    // an alert for each action
    const alerts = await client.hgetall(alertsStateKey(keys));
    expect(Object.keys(alerts).some((k) => k === `kill-guard:price_collar_flag:${sym}`)).toBe(true);

    // a restarted guard (the real CLI) folds the day again and acts on nothing twice
    writeFileSync(join(dir, 'kill.json'), JSON.stringify(POLICY));
    const before = await client.get(`${keys.ns}:kill`);
    const again = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'kill-guard', '--redis', redis.url, '--ns', keys.ns, '--policy', join(dir, 'kill.json'), '--exit-when-idle', '300'], { encoding: 'utf8', cwd: ROOT });
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`kill-guard: following 2 shards of kg (${live.length} episodes already acted on)\nkill-guard: stopped, 0 trigger(s) acted on, ${live.length} already acted on before a restart\n`);
    expect(await client.get(`${keys.ns}:kill`)).toBe(before);

    // switching off is the operator's: the CLI clears it, the guard never does
    const off = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'kill-switch', 'off', '--redis', redis.url, '--ns', keys.ns], { encoding: 'utf8', cwd: ROOT });
    expect(off.status).toBe(0);
    expect(await client.get(`${keys.ns}:kill`)).toBeNull();
  }, 420_000);
});

describe('decodeDetectorRow', () => {
  it('reads what parseRow reads, for the columns asked (the others stay null)', () => {
    const num = fc.oneof(fc.constant(null), fc.double(), fc.integer(), fc.constantFrom(0, -0, 1));
    fc.assert(
      fc.property(fc.array(num, { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.bigInt({ min: 0n, max: 1n << 62n }), fc.bigInt({ min: 0n, max: 1n << 62n }), fc.constantFrom('trade', 'quote', 'heartbeat'), (vals, mask, seq, ts, source) => {
        const line = `AAPL|${source}|${seq}|${ts - 1n}|${ts}|1700000000000-3|${packValues(vals)}`;
        const need = Uint8Array.from(vals.map((_, i) => (mask[i] ? 1 : 0)));
        const out = new Array<number | null>(vals.length).fill(null);
        const row = decodeDetectorRow(line, need, need.lastIndexOf(1), out);
        const ref = parseRow(line);
        expect({ symbol: row.symbol, source: row.source, seq: row.seq, ts: row.ts, input: row.input }).toEqual({ symbol: ref.symbol, source: ref.source, seq: ref.seq, ts: ref.tsRecv, input: ref.input });
        row.values.forEach((v, i) => expect(Object.is(v, need[i] ? ref.values[i] : null)).toBe(true));
      }),
    );
  });
});
