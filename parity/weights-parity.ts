/**
 * The target weights in `lockstep parity run` (`--weights CONFIG`): the live side runs the weights
 * driver (`lockstep weights --redis`, a child process) on the workers' output streams while they
 * compute the day; the replay side runs `lockstep weights`' fold over the replay's factor table.
 * Every rebalance must be in both, with the same universe, trigger, exclusions, signal values and
 * weights, bit for bit (-0 told from +0): the certificate names the config, its columns, the
 * counts and a content hash of each side's records.
 *
 * How the live side ends: the driver that followed the day is stopped (SIGTERM) once the workers
 * have drained, then a second one resumes from its checkpoint and exits once nothing new arrives
 * (`--exit-when-idle`): what the first one had not written yet is written by the second, from the
 * same streams, so the log is the whole day's whatever the timing. A deliberate skew
 * (`--inject-weights-skew CONFIG`) runs the live drivers with another config.
 *
 * Requests and kill-switch changes: the live drivers log what they read (`<ns>:weights:inputs`,
 * portfolio/control.ts) at the event time they gave it; the replay side takes that log, as
 * `lockstep weights --inputs` does, so a request or a kill during the run is part of what is
 * certified. The certificate counts them. With `control` (`parity run --weights-control`) the run
 * itself acts while the live side runs: the kill switch on for one symbol, a request, the switch
 * off, each at a fixed point of the fed day (feedWithWeightsControl); the certificate names them
 * and counts the live rebalances they touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LockstepError } from '../core/errors.ts';
import type { MarketEvent } from '../core/events.ts';
import type { FeedSummary } from '../live/feed.ts';
import { setKillSwitch } from '../live/kill-switch.ts';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { weightsInputsKey, weightsLogKey, weightsRequestsKey, type KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { decodeWeightsFields, fieldsObject, type WeightsFields } from '../live/weights-record.ts';
import { inputColumns, readWeightsConfig } from '../portfolio/config.ts';
import { decodeControlFields } from '../portfolio/control.ts';
import type { ControlEvent } from '../portfolio/fold.ts';
import { readWeightsFile, weightsFromTable } from '../portfolio/replay-weights.ts';

export interface WeightsParityOptions {
  /** The weights config both sides run. */
  config: string;
  /** Injected skew, to prove the harness catches it: the live drivers run this config instead. */
  liveConfig?: string;
  /**
   * While the live side runs, switch the kill switch on for one symbol, post a rebalance request,
   * then switch it off, each at a known point of the day (feedWithWeightsControl).
   */
  control?: boolean;
}

/** What `control` did: the symbol, and the event time the live driver logged each act at (ns). */
export interface WeightsControlActs {
  symbol: string;
  killOn: bigint;
  request: bigint;
  killOff: bigint;
}

/**
 * One rebalance as both sides are compared: the record's fields but the book's figures (derived
 * from the weights), symbols in code-unit order, one value per symbol.
 */
export type ComparedRebalance = Omit<WeightsFields, 'gross' | 'net' | 'turnover'>;

/** The weights part of a parity certificate. */
export interface WeightsCertificate {
  verdict: 'parity' | 'skew';
  config: { path: string; sha256: string; signal: string; method: string; construction: string; rebalance: string; columns: string[] };
  /** The config the live drivers ran instead (a deliberate skew). */
  injectedSkew?: { liveConfig: string; sha256: string };
  rebalances: { replay: number; live: number; matched: number; mismatched: number; onlyInReplay: number; onlyInLive: number };
  /** The control events the live drivers logged, which the replay side took too. */
  inputs: { requests: number; kills: number };
  /**
   * With `control`: the acts posted while the live side ran (the event times the driver logged
   * them at, epoch ns) and the live rebalances they touched: those that excluded the symbol as
   * killed, and those a request triggered.
   */
  control?: { symbol: string; killOn: string; request: string; killOff: string; killedRebalances: number; requestRebalances: number };
  /** The first difference, for a human: the rebalance time, the symbol and field, and both values. */
  firstMismatch?: { t: string; symbol: string | null; field: string; replay: string; live: string };
  /** The replay's weights file (as `lockstep weights` writes it) and an exact content hash of each side's records (equal on parity). */
  outputs: { replayFileSha256: string; replayHash: string; liveHash: string };
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const bits = (x: number | null): string => {
  if (x === null) return 'null';
  const f = new Float64Array([x]);
  return Buffer.from(f.buffer).toString('hex');
};
/** A value as a certificate shows it: exact (shortest round-trip, -0 and null kept). */
const shown = (x: number | string | null): string => (typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : String(x));

/** An exact, order-dependent content hash of the records (every float as its bits). */
export function rebalancesHash(rs: readonly ComparedRebalance[]): string {
  const h = createHash('sha256');
  for (const r of rs) {
    h.update(`${r.t}|${r.trigger}\n`);
    for (let i = 0; i < r.symbols.length; i++) h.update(`${r.symbols[i]}|${bits(r.weights[i])}|${bits(r.signal[i])}|${r.excluded[i] ?? ''}\n`);
  }
  return h.digest('hex');
}

/** Starts a live weights driver (the real CLI) on the run's namespace. */
export function startWeightsDriver(root: string, url: string, keys: KeyLayout, o: WeightsParityOptions, extra: readonly string[] = []): ChildProcess {
  const p = spawn(process.execPath, [join(root, 'bin/lockstep.js'), 'weights', '--redis', url, '--ns', keys.ns, '--config', o.liveConfig ?? o.config, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  p.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2048)));
  lastWords.set(p, () => tail.trim().split('\n').at(-1) ?? '');
  return p;
}

const lastWords = new WeakMap<ChildProcess, () => string>();
const exited = (p: ChildProcess): Promise<number | null> => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (c) => r(c))));

/**
 * Ends the live side once the workers have drained: stops the driver that followed the day, then
 * runs one more that resumes from its checkpoint and exits when idle. Throws when a driver failed.
 */
export async function finishWeightsDrivers(root: string, url: string, keys: KeyLayout, o: WeightsParityOptions, following: ChildProcess): Promise<void> {
  if (following.exitCode === null && following.signalCode === null) following.kill('SIGTERM');
  const code = await exited(following);
  if (code !== 0) throw new Error(`the live weights driver exited with ${code}: ${lastWords.get(following)?.() ?? ''}`);
  const last = startWeightsDriver(root, url, keys, o, ['--exit-when-idle', '1500']);
  const c2 = await exited(last);
  if (c2 !== 0) throw new Error(`the live weights driver (catching up) exited with ${c2}: ${lastWords.get(last)?.() ?? ''}`);
}

/** The live log `<ns>:weights:log`, as records. */
export async function readLiveRebalances(url: string, keys: KeyLayout): Promise<ComparedRebalance[]> {
  const r = await openRedis(url, { commandTimeoutMs: 60_000 });
  try {
    const log = (await r.xrange(weightsLogKey(keys), '-', '+')) as [string, string[]][];
    return log.map(([id, f]) => {
      const d = decodeWeightsFields(fieldsObject(f));
      if (d === null) throw new Error(`${weightsLogKey(keys)} entry ${id} is not a weights record`);
      return { t: d.t, trigger: d.trigger, symbols: d.symbols, weights: d.weights, signal: d.signal, excluded: d.excluded };
    });
  } finally {
    r.disconnect();
  }
}

/** The control log `<ns>:weights:inputs` (requests and kill changes at the times the live drivers gave them), as events. */
export async function readLiveControl(url: string, keys: KeyLayout): Promise<ControlEvent[]> {
  const r = await openRedis(url, { commandTimeoutMs: 60_000 });
  try {
    const log = (await r.xrange(weightsInputsKey(keys), '-', '+')) as [string, string[]][];
    const out: ControlEvent[] = [];
    for (const [id, f] of log) {
      const d = decodeControlFields(f);
      if ('bad' in d) throw new Error(`${weightsInputsKey(keys)} entry ${id}: ${d.bad}`);
      if (d.ev !== null) out.push(d.ev);
    }
    return out;
  } finally {
    r.disconnect();
  }
}

/**
 * Runs the weights fold over the replay's factor table with the live side's control events
 * (writing the weights file into `work`) and reads it back as records.
 */
export async function replayRebalances(table: string, config: string, work: string, control: readonly ControlEvent[] = []): Promise<{ records: ComparedRebalance[]; sha256: string; control: readonly ControlEvent[] }> {
  const s = await weightsFromTable(table, readWeightsConfig(config), join(work, 'weights.parquet'), [], control);
  const rows = await readWeightsFile(s.out);
  const byT = new Map<bigint, ComparedRebalance>();
  for (const x of rows) {
    let r = byT.get(x.ts);
    if (r === undefined) byT.set(x.ts, (r = { t: x.ts, trigger: x.trigger, symbols: [], weights: [], signal: [], excluded: [] }));
    r.symbols.push(x.symbol);
    r.weights.push(x.weight);
    r.signal.push(x.signal);
    r.excluded.push(x.excluded);
  }
  return { records: [...byT.values()], sha256: s.sha256, control };
}

/** The first difference between two records of one rebalance time, or null when they are the same bit for bit. */
function difference(a: ComparedRebalance, b: ComparedRebalance): WeightsCertificate['firstMismatch'] | null {
  const t = a.t.toString();
  if (a.trigger !== b.trigger) return { t, symbol: null, field: 'trigger', replay: a.trigger, live: b.trigger };
  if (a.symbols.join(',') !== b.symbols.join(',')) return { t, symbol: null, field: 'symbols', replay: a.symbols.join(','), live: b.symbols.join(',') };
  for (let i = 0; i < a.symbols.length; i++) {
    const s = a.symbols[i];
    if (!Object.is(a.weights[i], b.weights[i])) return { t, symbol: s, field: 'weight', replay: shown(a.weights[i]), live: shown(b.weights[i]) };
    if (!Object.is(a.signal[i], b.signal[i])) return { t, symbol: s, field: 'signal', replay: shown(a.signal[i]), live: shown(b.signal[i] ?? null) };
    if (a.excluded[i] !== b.excluded[i]) return { t, symbol: s, field: 'excluded', replay: shown(a.excluded[i]), live: shown(b.excluded[i] ?? null) };
  }
  return null;
}

/** Compares the two sides' rebalances (matched by time) into the weights part of the certificate. */
export function certifyWeights(o: WeightsParityOptions, replay: { records: ComparedRebalance[]; sha256: string; control?: readonly ControlEvent[] }, live: ComparedRebalance[], acts?: WeightsControlActs): WeightsCertificate {
  const cfg = readWeightsConfig(o.config);
  const raw = JSON.parse(readFileSync(o.config, 'utf8')) as { rebalance?: string };
  const liveByT = new Map(live.map((r) => [r.t, r]));
  let matched = 0;
  let mismatched = 0;
  let first: WeightsCertificate['firstMismatch'] | null = null;
  for (const a of replay.records) {
    const b = liveByT.get(a.t);
    if (b === undefined) {
      first ??= { t: a.t.toString(), symbol: null, field: 'rebalance', replay: 'present', live: 'absent' };
      continue;
    }
    const d = difference(a, b);
    if (d === null) matched++;
    else {
      mismatched++;
      first ??= d;
    }
  }
  const replayTs = new Set(replay.records.map((r) => r.t));
  const onlyInLive = live.filter((r) => !replayTs.has(r.t));
  if (onlyInLive.length > 0) first ??= { t: onlyInLive[0].t.toString(), symbol: null, field: 'rebalance', replay: 'absent', live: 'present' };
  const onlyInReplay = replay.records.length - matched - mismatched;
  // each side once per time: a rebalance logged twice live is a skew as well
  const twice = live.length - liveByT.size;
  const ok = mismatched === 0 && onlyInReplay === 0 && onlyInLive.length === 0 && twice === 0 && replay.records.length > 0;
  return {
    verdict: ok ? 'parity' : 'skew',
    config: { path: o.config, sha256: sha256(readFileSync(o.config)), signal: cfg.signal, method: cfg.method, construction: cfg.construction, rebalance: String(raw.rebalance), columns: inputColumns(cfg) },
    ...(o.liveConfig !== undefined ? { injectedSkew: { liveConfig: o.liveConfig, sha256: sha256(readFileSync(o.liveConfig)) } } : {}),
    rebalances: { replay: replay.records.length, live: live.length, matched, mismatched, onlyInReplay, onlyInLive: onlyInLive.length },
    inputs: { requests: (replay.control ?? []).filter((e) => e.kind === 'request').length, kills: (replay.control ?? []).filter((e) => e.kind === 'kill').length },
    ...(acts !== undefined
      ? { control: { symbol: acts.symbol, killOn: String(acts.killOn), request: String(acts.request), killOff: String(acts.killOff), killedRebalances: live.filter((r) => r.excluded[r.symbols.indexOf(acts.symbol)] === 'killed').length, requestRebalances: live.filter((r) => r.trigger === 'request').length } }
      : {}),
    ...(first !== null ? { firstMismatch: first } : {}),
    outputs: { replayFileSha256: replay.sha256, replayHash: rebalancesHash(replay.records), liveHash: rebalancesHash(live) },
  };
}

/** Ends a part of the feed (never reaches a user: feedWithWeightsControl catches it). */
class Cut extends LockstepError {}

/**
 * Feeds the day in four parts and acts between them (`parity run --weights --weights-control`):
 * once the feed has published up to a quarter of the day's span (ts_recv, from the first trade or
 * quote to `last`), the kill
 * switch goes on for one symbol; at half, a rebalance request is posted; at three quarters, the
 * switch goes off; each time the feed waits until the live driver has logged the act
 * (`<ns>:weights:inputs`) before going on. The shards' time cannot pass what was fed, so each act
 * lands mid-day whatever the machine's load: the kill spans half of the day's rebalances and
 * the request runs between grid times. The replay side takes the driver's log (certifyWeights).
 *
 * A part ends by throwing from the feed's event hook; the next part resumes after what the
 * streams hold (live/feed.ts), so the day is published once. `feed` runs the feed with a hook;
 * `driver` gives the following driver (whose death ends the wait, with its last words).
 */
export async function feedWithWeightsControl(o: {
  feed: (onEvent: (e: MarketEvent) => void) => Promise<FeedSummary>;
  url: string;
  keys: KeyLayout;
  /** The day's last ts_recv (the replay's): the span runs from the first trade or quote to it. */
  last: bigint;
  /** The weights config's universe: the symbol killed is its first, else the first symbol (code-unit order) traded or quoted before the first act. */
  universe: readonly string[] | 'all';
  driver: () => ChildProcess | null;
  log: (m: string) => void;
}): Promise<{ fed: FeedSummary; acts: WeightsControlActs }> {
  // the span starts at the first trade or quote (the catalog's earlier dates' fundamentals come first)
  let cuts: bigint[] | null = null;
  const seen = new Set<string>();
  let total: FeedSummary | null = null;
  const part = async (cut: number | null): Promise<void> => {
    let fed: FeedSummary;
    try {
      fed = await o.feed((e) => {
        if (e.kind === 'trade' || e.kind === 'quote') {
          seen.add(e.symbol);
          cuts ??= [1n, 2n, 3n].map((q) => e.tsRecv + ((o.last - e.tsRecv) * q) / 4n);
        }
        const at = cut === null || cuts === null ? null : cuts[cut];
        if (at !== null && e.tsRecv >= at) throw new Cut('the feed part ends here');
      });
    } catch (e) {
      if (!(e instanceof Cut)) throw e;
      return;
    }
    total = fed;
  };
  const r = await openRedis(o.url, { commandTimeoutMs: 60_000 });
  try {
    await part(0);
    const symbol = o.universe !== 'all' ? o.universe[0] : [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
    if (symbol === undefined) throw new Error('--weights-control: no symbol traded or quoted in the first quarter of the day to switch the kill switch for');
    await setKillSwitch(r, o.keys, { on: true, symbols: [symbol], reason: 'parity run: weights control', by: 'lockstep parity' });
    const killOn = await loggedAt(r, o, (f) => f.kind === 'kill' && f.symbol === symbol && f.mode === 'halt', `the kill switch on for ${symbol}`);
    o.log(`B: kill switch on for ${symbol}, logged by the weights driver at ${killOn}`);
    await part(1);
    const id = (await r.xadd(weightsRequestsKey(o.keys), '*', 'by', 'lockstep parity')) as string;
    const request = await loggedAt(r, o, (f) => f.kind === 'request' && f.id === id, `the request ${id}`);
    o.log(`B: rebalance request ${id}, logged by the weights driver at ${request}`);
    await part(2);
    await setKillSwitch(r, o.keys, { on: false, symbols: [symbol], by: 'lockstep parity' });
    const killOff = await loggedAt(r, o, (f) => f.kind === 'kill' && f.symbol === symbol && f.mode === 'off', `the kill switch off for ${symbol}`);
    o.log(`B: kill switch off for ${symbol}, logged by the weights driver at ${killOff}`);
    await part(null);
    // the last part runs to the end (a Cut is thrown only with a cut time)
    return { fed: total!, acts: { symbol, killOn, request, killOff } };
  } finally {
    r.disconnect();
  }
}

/**
 * Waits until the driver has logged an entry matching `match` (the last one), and returns its
 * event time. A guard against a hang (10 minutes, or the driver exiting), not a timing assertion.
 */
async function loggedAt(r: RedisClient, o: { keys: KeyLayout; driver: () => ChildProcess | null }, match: (f: Record<string, string>) => boolean, what: string): Promise<bigint> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const log = (await r.xrange(weightsInputsKey(o.keys), '-', '+')) as [string, string[]][];
    for (let i = log.length - 1; i >= 0; i--) {
      const f = Object.fromEntries(Array.from({ length: log[i][1].length / 2 }, (_, j) => [log[i][1][2 * j], log[i][1][2 * j + 1]])) as Record<string, string>;
      if (match(f) && f.ts !== undefined) return BigInt(f.ts);
    }
    const p = o.driver();
    if (p !== null && (p.exitCode !== null || p.signalCode !== null)) throw new Error(`the live weights driver exited (${p.exitCode ?? p.signalCode}) before logging ${what}: ${lastWords.get(p)?.() ?? ''}`);
    if (Date.now() > deadline) throw new Error(`the live weights driver did not log ${what} within 10 minutes`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
