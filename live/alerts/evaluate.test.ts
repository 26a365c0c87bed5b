/**
 * Alerts, the pure part: the evaluator on hand-built snapshots (each condition fires just above
 * its threshold and clears at it), the thresholds, the transitions and the Prometheus text.
 */
import { describe, expect, it } from 'vitest';
import { alertsMetricsText, alertTransitions, evaluateAlerts, resolveThresholds, DEFAULT_THRESHOLDS, type Alert, type DeploymentSnapshot, type ShardSnapshot } from './index.ts';
import { KILL_OFF, type KillState } from '../kill-switch.ts';

const T0 = 1_700_000_000_000;
const AT = T0 + 100_000;

/** A healthy shard: a worker holds it, nothing waits, output is fresh. */
function shard(s: number, over: Partial<ShardSnapshot> = {}): ShardSnapshot {
  return {
    shard: s,
    input: { length: 100, lastMs: AT - 50 },
    leaseTtlMs: 8000,
    group: { lag: 0, pending: 0 },
    oldestPendingMs: null,
    oldestUndeliveredMs: null,
    lastOutputMs: AT - 40,
    firstUnansweredMs: null,
    deadLetters: { length: 0, lastMs: null, lastReason: null },
    ...over,
  };
}

const snap = (shards: ShardSnapshot[], kill: KillState = KILL_OFF, at = AT): DeploymentSnapshot => ({ ok: true, at, shards, kill });
const ids = (a: Alert[]) => a.map((x) => `${x.id}/${x.severity}`);
const D = DEFAULT_THRESHOLDS;

describe('thresholds', () => {
  it('defaults, critical = 5x a given warning level, and validation', () => {
    expect(resolveThresholds()).toEqual({ lagEntries: 10_000, lagEntriesCritical: 50_000, lagMs: 1_000, lagMsCritical: 5_000, staleMs: 5_000, deadLetterWindowMs: 60_000 });
    expect(resolveThresholds({ lagMs: 200, lagEntries: 7 })).toMatchObject({ lagMs: 200, lagMsCritical: 1000, lagEntries: 7, lagEntriesCritical: 35 });
    expect(() => resolveThresholds({ staleMs: 0 })).toThrow(/staleMs=0: must be a number > 0/);
    expect(() => resolveThresholds({ lagMs: Number.NaN })).toThrow(/lagMs=NaN/);
    expect(() => resolveThresholds({ lagMs: 2000, lagMsCritical: 1000 })).toThrow(/lagMsCritical=1000 is below lagMs=2000/);
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    expect(() => resolveThresholds({ lagMs: 2000, lagMsCritical: 1000 }, flag)).toThrow('alert threshold --lag-ms-critical=1000 is below --lag-ms=2000');
  });
});

describe('evaluateAlerts', () => {
  it('a healthy deployment fires nothing; a shard nobody ever published to is ignored', () => {
    expect(evaluateAlerts(snap([shard(0), shard(1), shard(2, { input: null, leaseTtlMs: null, group: null, lastOutputMs: null })]))).toEqual([]);
  });

  it('no-worker: input exists and nobody holds the lease', () => {
    const a = evaluateAlerts(snap([shard(0, { leaseTtlMs: null }), shard(1)]));
    expect(ids(a)).toEqual(['no-worker:0/critical']);
    expect(a[0]).toMatchObject({ shard: 0, value: 0 });
    expect(a[0].summary).toBe('shard 0 has no worker: nobody holds its lease (0 inputs waiting)');
    // never consumed: no group, the whole stream waits
    const b = evaluateAlerts(snap([shard(3, { leaseTtlMs: null, group: null, input: { length: 40, lastMs: AT - 500 }, oldestUndeliveredMs: AT - 2500 })]));
    expect(ids(b)).toEqual(['no-worker:3/critical', 'lag:3/warning']);
    expect(b[0].summary).toBe('shard 3 has no worker: no worker ever consumed it (40 inputs waiting, the oldest 2.5 s old)');
    expect(evaluateAlerts(snap([shard(3, { leaseTtlMs: null, group: { lag: 1, pending: 0 } })]))[0].summary).toBe('shard 3 has no worker: nobody holds its lease (1 input waiting)');
  });

  it('lag by entries: undelivered + pending above lagEntries (warning) and lagEntriesCritical (critical)', () => {
    const at = (lag: number, pending: number) => evaluateAlerts(snap([shard(1, { group: { lag, pending } })]));
    expect(at(D.lagEntries - 10, 10)).toEqual([]);
    const w = at(D.lagEntries - 10, 11);
    expect(ids(w)).toEqual(['lag:1/warning']);
    expect(w[0].summary).toBe('shard 1 is behind: the oldest unprocessed input is 0.0 s old (limit 1.0 s), 10,001 inputs waiting (9,990 undelivered + 11 pending; limit 10,000)');
    expect(ids(at(D.lagEntriesCritical, 0))).toEqual(['lag:1/warning']);
    expect(ids(at(D.lagEntriesCritical, 1))).toEqual(['lag:1/critical']);
  });

  it('lag by age of the oldest unprocessed input (undelivered or pending), on the snapshot clock', () => {
    const at = (undeliveredAge: number | null, pendingAge: number | null = null) =>
      evaluateAlerts(snap([shard(2, { group: { lag: 1, pending: 1 }, oldestUndeliveredMs: undeliveredAge === null ? null : AT - undeliveredAge, oldestPendingMs: pendingAge === null ? null : AT - pendingAge })]));
    expect(at(D.lagMs)).toEqual([]);
    const w = at(D.lagMs + 1);
    expect(ids(w)).toEqual(['lag:2/warning']);
    expect(w[0]).toMatchObject({ shard: 2, value: D.lagMs + 1 });
    expect(w[0].summary).toContain('the oldest unprocessed input is 1.0 s old (limit 1.0 s), 2 inputs waiting (1 undelivered + 1 pending; limit 10,000)');
    expect(ids(at(D.lagMsCritical))).toEqual(['lag:2/warning']);
    expect(ids(at(D.lagMsCritical + 1))).toEqual(['lag:2/critical']);
    expect(at(null, 7000)[0]).toMatchObject({ severity: 'critical', value: 7000 }); // a pending entry is older still
    // configurable
    expect(ids(evaluateAlerts(snap([shard(2, { group: { lag: 1, pending: 0 }, oldestUndeliveredMs: AT - 300 })]), { lagMs: 299 }))).toEqual(['lag:2/warning']);
  });

  it('lag when Redis cannot count the undelivered entries: age still fires, the summary says so', () => {
    const a = evaluateAlerts(snap([shard(0, { group: { lag: null, pending: 3 }, oldestUndeliveredMs: AT - 1500 })]));
    expect(ids(a)).toEqual(['lag:0/warning']);
    expect(a[0].summary).toContain('3 inputs waiting (3 pending, undelivered unknown; limit 10,000)');
  });

  it('stale: a worker holds the shard, inputs keep arriving, no output for staleMs and an input older than that has none', () => {
    const stale = (over: Partial<ShardSnapshot>) => evaluateAlerts(snap([shard(4, { lastOutputMs: AT - D.staleMs - 1, firstUnansweredMs: AT - D.staleMs - 1, ...over })]));
    const a = stale({});
    expect(ids(a)).toEqual(['stale:4/warning']);
    expect(a[0].summary).toBe('shard 4 produces no output: inputs keep arriving (the latest 0.1 s ago) but its last output is 5.0 s old and an input of 5.0 s ago has none (limit 5.0 s)');
    expect(stale({ lastOutputMs: AT - D.staleMs })).toEqual([]); // output at the limit
    expect(stale({ firstUnansweredMs: AT - D.staleMs })).toEqual([]); // the waiting input is not late yet
    expect(stale({ firstUnansweredMs: AT - 100 })).toEqual([]); // first input after a quiet spell
    expect(stale({ firstUnansweredMs: null })).toEqual([]); // only heartbeats since the last output
    expect(stale({ input: { length: 1, lastMs: AT - D.staleMs - 1 } })).toEqual([]); // inputs stopped arriving
    expect(ids(stale({ leaseTtlMs: null }))).toEqual(['no-worker:4/critical']); // no worker: not "stale"
    const never = stale({ lastOutputMs: null, firstUnansweredMs: AT - 9000 });
    expect(never[0].summary).toContain('but it has written no output yet and an input of 9.0 s ago has none');
  });

  it('dead-letters: fires while the newest dead letter is younger than the window, with the count and the reason', () => {
    const dl = (age: number) => evaluateAlerts(snap([shard(5, { deadLetters: { length: 17, lastMs: AT - age, lastReason: 'price=-5: must be a finite number > 0' } })]));
    const a = dl(12_000);
    expect(ids(a)).toEqual(['dead-letters:5/warning']);
    expect(a[0]).toMatchObject({ shard: 5, value: 17 });
    expect(a[0].summary).toBe('shard 5 dead-lettered inputs: the latest 12.0 s ago (17 in its dead-letter stream): price=-5: must be a finite number > 0');
    expect(ids(dl(D.deadLetterWindowMs))).toEqual(['dead-letters:5/warning']);
    expect(dl(D.deadLetterWindowMs + 1)).toEqual([]);
  });

  it('kill-switch: the whole deployment, or the killed symbols, with the reason', () => {
    const e = (reason: string, at = T0) => ({ reason, by: 'oncall', at });
    const all = evaluateAlerts(snap([], { all: e('release 1.2 computes rsi_14 wrong'), symbols: { AAPL: e('x') } }));
    expect(all).toEqual([
      { id: 'kill-switch', severity: 'critical', value: 1, scope: '*AAPL', summary: 'kill switch ON for every symbol, since 2023-11-14T22:13:20.000Z by oncall: release 1.2 computes rsi_14 wrong; also on for 1 symbol one by one' },
    ]);
    const some = evaluateAlerts(snap([], { all: null, symbols: { MSFT: e('halted'), AAPL: e('venue X feed broken') } }));
    expect(some[0].summary).toBe('kill switch ON for 2 symbols: AAPL (since 2023-11-14T22:13:20.000Z by oncall: venue X feed broken), MSFT (since 2023-11-14T22:13:20.000Z by oncall: halted)');
    expect(some[0].scope).toBe('AAPL,MSFT');
    const many = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`S${String(i).padStart(2, '0')}`, e('r')]));
    expect(evaluateAlerts(snap([], { all: null, symbols: many }))[0].summary).toMatch(/S09 \(.*\) and 3 more$/);
    expect(evaluateAlerts(snap([], KILL_OFF))).toEqual([]);
  });

  it('redis-down when the snapshot failed', () => {
    expect(evaluateAlerts({ ok: false, at: AT, error: 'connect ECONNREFUSED 127.0.0.1:1' })).toEqual([
      { id: 'redis-down', severity: 'critical', summary: 'cannot read the deployment from Redis: connect ECONNREFUSED 127.0.0.1:1' },
    ]);
  });
});

describe('alertTransitions', () => {
  it('fires new alerts, stays quiet while one only changes its numbers, re-fires on escalation or a new scope, resolves the missing', () => {
    const lag = (severity: 'warning' | 'critical', value: number): Alert => ({ id: 'lag:0', severity, summary: `behind ${value}`, shard: 0, value });
    const kill = (scope: string): Alert => ({ id: 'kill-switch', severity: 'critical', summary: scope, scope });
    const t1 = alertTransitions(new Map(), [lag('warning', 1), kill('AAPL')], 1000);
    expect(t1.transitions.map((t) => `${t.id}:${t.state}:${t.since}:${t.at}`)).toEqual(['lag:0:firing:1000:1000', 'kill-switch:firing:1000:1000']);
    const t2 = alertTransitions(t1.firing, [lag('warning', 2), kill('AAPL')], 2000);
    expect(t2.transitions).toEqual([]);
    expect(t2.firing.get('lag:0')).toMatchObject({ summary: 'behind 2', since: 1000 });
    const t3 = alertTransitions(t2.firing, [lag('critical', 9), kill('AAPL,MSFT')], 3000);
    expect(t3.transitions.map((t) => `${t.id}:${t.state}:${t.severity}:${t.since}`)).toEqual(['lag:0:firing:critical:1000', 'kill-switch:firing:critical:1000']);
    const t4 = alertTransitions(t3.firing, [], 4000);
    expect(t4.transitions).toEqual([
      // a resolved alert says so, not the numbers it last fired with ("behind 9")
      { id: 'lag:0', severity: 'critical', summary: 'shard 0 has caught up: resolved after 3 s', shard: 0, value: 9, since: 1000, state: 'resolved', at: 4000 },
      { id: 'kill-switch', severity: 'critical', summary: 'the kill switch is off: resolved after 3 s', scope: 'AAPL,MSFT', since: 1000, state: 'resolved', at: 4000 },
    ]);
    expect(t4.firing.size).toBe(0);
  });

  it('Prometheus lines for /metrics', () => {
    const text = alertsMetricsText([{ id: 'lag:3', severity: 'warning', summary: '' }, { id: 'redis-down', severity: 'critical', summary: '' }]);
    expect(text).toContain('lockstep_alerts_firing{severity="critical"} 1\nlockstep_alerts_firing{severity="warning"} 1\n');
    expect(text).toContain('lockstep_alert{id="lag:3",severity="warning"} 1\n');
  });
});

describe('data-lost', () => {
  const presence = (metaPresent: boolean, metaSeenBefore: boolean, report: { consumer: string; at: number; reason: string } | null = null): DeploymentSnapshot => ({
    ...(snap([]) as Extract<DeploymentSnapshot, { ok: true }>),
    presence: { metaKey: 'ls:meta', metaPresent, metaSeenBefore, workerReport: report },
  });

  it('fires only when the meta key is gone and known to have existed (seen before, or a worker says so)', () => {
    expect(evaluateAlerts(presence(true, true))).toEqual([]);
    expect(evaluateAlerts(presence(true, false, { consumer: 'w1', at: T0, reason: 'x' }))).toEqual([]);
    // a deployment that has not started yet: nothing to say
    expect(evaluateAlerts(presence(false, false))).toEqual([]);
    const [seen] = evaluateAlerts(presence(false, true));
    expect(seen).toMatchObject({ id: 'data-lost', severity: 'critical' });
    expect(seen.summary).toMatch(/^Redis lost the deployment's data: ls:meta is gone \(it was there at an earlier check\), and the input streams and checkpoints with it/);
    const [told] = evaluateAlerts(presence(false, false, { consumer: 'w1', at: T0, reason: 'x' }));
    expect(told.summary).toContain(`; worker w1 stopped for it at ${new Date(T0).toISOString()}. `);
  });
});
