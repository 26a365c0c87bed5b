/**
 * `lockstep parity run`: replays a day offline (A), plays the same day through a real Redis into
 * K live workers (B, child processes running `lockstep live`, optionally killed with SIGKILL and
 * restarted: `--chaos kill:N`), captures B from the output streams and the served latest values,
 * diffs A and B, and writes a certificate: input file hashes, code version, factor names, versions
 * and code hashes, output hashes, counts, the scenario and the verdict. With a weights config, the
 * target weights are certified too (weights-parity.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, type Redis } from 'ioredis';
import { createFactorSet, type SessionTable } from '../core/fold.ts';
import type { SymbolStage } from '../core/stage.ts';
import { LockstepError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion, withFactorParams } from '../core/registry.ts';
import { runFeed, type FeedOptions } from '../live/feed.ts';
import { inputStream, latestKey, type KeyLayout } from '../live/keys.ts';
import { openRedis, redact, type RedisClient } from '../live/redis-connect.ts';
import { retryTransient } from '../live/redis-errors.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { fmtCount, StatusLine } from '../live/status-line.ts';
import { readCatalogSessions } from '../replay/catalog.ts';
import { runReplay, selectReplayFiles, type ReplaySelection } from '../replay/run-replay.ts';
import { instantOf } from '../replay/warm-fold.ts';
import { lineageOf, type Lineage } from '../replay/lineage.ts';
import { UsageError } from '../core/errors.ts';
import { diffTables, type DiffReport, type DiffTable } from './diff.ts';
import { loadTable } from './load-table.ts';
import { captureUrl } from './row-source.ts';
import { certifyWeights, feedWithWeightsControl, finishWeightsDrivers, readLiveControl, readLiveRebalances, replayRebalances, startWeightsDriver, type WeightsCertificate, type WeightsControlActs, type WeightsParityOptions } from './weights-parity.ts';

// the package root: this file is parity/run-parity.ts in a checkout, dist/parity/run-parity.js when built
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));

export interface ParityRunOptions extends Pick<ReplaySelection, 'symbols' | 'from' | 'to'> {
  catalog: string;
  date: string;
  /** Redis to use; a private redis-server is started when absent. */
  redis?: string;
  workers?: number;
  shards?: number;
  /** SIGKILL a random worker N times during the run (each is restarted). */
  killN?: number;
  /** Feed at N x real time instead of as fast as possible. */
  speed?: number;
  /** Publish this fraction of events twice (a producer retry; see live/feed.ts). */
  duplicate?: number;
  /**
   * Injected skew, to prove the harness catches it: the live workers run the default set with
   * these `name.param=value` changes (e.g. `ma_5m.bars=6`) while the replay runs it unchanged.
   */
  liveFactorParams?: string[];
  /** The factor set both sides run (default: the default set). */
  factors?: readonly AnyFactor[];
  /**
   * The `lockstep live` arguments that make a worker run `factors` (`--factors FILE --only ...`,
   * as cli/options.ts factorSetArgv gives them); required when `factors` is not the default set.
   */
  factorArgs?: readonly string[];
  /**
   * Both sides run the default set with these `name.param=value` changes (e.g.
   * `vwap_session.session=auto`); `liveFactorParams` come on top of them on the live side.
   */
  factorParams?: string[];
  certificate?: string;
  log?: (m: string) => void;
  /** Show progress on stderr (a line rewritten in place on a terminal, one line every 10 s otherwise). */
  status?: boolean;
  /**
   * Start the live side mid-session (HH:MM UTC): the feed publishes only events received from then
   * on, and the workers warm each shard from the catalog up to its first input (`--warm-from`,
   * unless `warm` is false). Live rows are compared with the replay's rows of the same events
   * (the replay runs the whole day; its rows before the start have no live counterpart).
   */
  liveFrom?: string;
  /** With `liveFrom`: start the workers with `--warm-from` the catalog (default true; false shows what a cold start gets wrong). */
  warm?: boolean;
  /**
   * A model registry (models/registry.ts): both sides run its models after the factors, so the
   * signal columns are certified too. Its deployments.jsonl seeds the live log `<ns>:models:log`;
   * entries appended during the run (`during`, or an operator) come on top, and the replay runs
   * with the live log as exported at the end (live/live/models/live-log.ts), late amendments included.
   */
  registry?: string;
  /**
   * A weights config (portfolio/config.ts): the live side also runs `lockstep weights --redis` on the
   * workers' output, the replay side the same fold over its table, and every rebalance's weights
   * are certified bit for bit (`liveConfig`: a deliberate skew, the live driver runs that config).
   */
  weights?: WeightsParityOptions;
  /** Called once the feed and workers are started (e.g. to deploy and roll back a model mid-run). */
  during?: (live: { redis: string; keys: KeyLayout }) => Promise<void>;
  /**
   * With `redis`: keep the run's namespace (input and output streams, checkpoints, latest values)
   * instead of deleting it at the end.
   */
  keep?: boolean;
}

export interface Certificate {
  verdict: 'parity' | 'skew';
  /** symbols / from / to appear only when the run was restricted to them (both paths read the same selection). */
  scenario: {
    date: string;
    workers: number;
    shards: number;
    /** `none`, or the faults injected: `kill:N` (SIGKILLs), `dup:F` (duplicated deliveries), comma-separated. */
    chaos: string;
    feedSpeed: string;
    symbols?: string[];
    from?: string;
    to?: string;
    /** Events the feed published twice (with `dup:F`). */
    duplicatedEvents?: number;
    /** The live side started mid-session at this time (HH:MM UTC) and how its workers started: from the catalog's history (`warm`) or empty (`cold`). */
    liveFrom?: string;
    warmStart?: 'catalog' | 'cold';
    /** Parameter changes the live side ran with (a deliberate skew) and its feature-set version. */
    injectedSkew?: { liveFactorParams: string[]; liveFeatureSetVersion: string };
  };
  code: { commit: string | null; dirty: boolean | null; featureSetVersion: string; factors: ReturnType<typeof factorManifest> };
  inputs: { path: string; sha256: string }[];
  /** What certified outputs are computed by and from (replay/lineage.ts; `lockstep lineage CERT.json` prints it). */
  lineage: Lineage;
  /** replayFileSha256: the replay's Parquet bytes; *TableHash: order-independent content hashes (equal on parity). */
  outputs: { replayFileSha256: string; replayTableHash: string; liveTableHash: string; rows: number };
  diff: Omit<DiffReport, 'factors'> & { factorsWithMismatches: string[] };
  servedLatest: { symbols: number; mismatched: number };
  /** With a weights config: the target weights of both sides, rebalance by rebalance. */
  weights?: WeightsCertificate;
}


/** A content hash of a table independent of row order: sorted by key, values as exact bits. */
export function tableHash(t: DiffTable): string {
  const cols = Object.keys(t.values).sort();
  const idx = t.seq.map((_, i) => i).sort((a, b) => {
    const ka = `${t.symbol[a]}\u0000${t.source[a]}`;
    const kb = `${t.symbol[b]}\u0000${t.source[b]}`;
    if (ka !== kb) return ka < kb ? -1 : 1;
    return t.seq[a] < t.seq[b] ? -1 : t.seq[a] > t.seq[b] ? 1 : 0;
  });
  const h = createHash('sha256');
  h.update(cols.join(','));
  const f = new Float64Array(1);
  const bytes = new Uint8Array(f.buffer);
  for (const i of idx) {
    h.update(`\n${t.symbol[i]}|${t.source[i]}|${t.seq[i]}|`);
    for (const c of cols) {
      const v = t.values[c][i];
      if (v === null) h.update('n');
      else {
        f[0] = v;
        h.update(bytes);
      }
    }
  }
  return h.digest('hex');
}

function gitCommit(): { commit: string | null; dirty: boolean | null } {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return { commit: null, dirty: null };
  const d = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
  return { commit: r.stdout.trim(), dirty: d.status === 0 ? d.stdout.trim().length > 0 : null };
}

/** The last line a worker printed on stderr (its reason, when it exits early). */
const lastLines = new WeakMap<ChildProcess, string>();

function startWorker(url: string, keys: KeyLayout, owned: number[], consumer: string, factorArgs: readonly string[], factorParams: readonly string[], catalog: string, extra: readonly string[] = []): ChildProcess {
  const params = [...factorArgs, ...factorParams.flatMap((p) => ['--factor-param', p])];
  // the workers start with the feed: they bring the catalog's session table themselves rather than
  // race the feed to record it in <ns>:meta (shard-meta.ts settleSessions)
  const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--owned', owned.join(','), '--consumer', consumer, '--lease-ms', '1500', '--checkpoint-ms', '500', '--sessions', catalog, ...params, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  // read, so that a chatty worker never blocks on a full pipe; the last line says why it stopped
  let tail = '';
  p.stderr!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4096);
    // a crash ends with Node's "Node.js vX" line after the stack: name the error line instead
    const lines = tail.trim().split('\n').filter((l) => l.trim() !== '' && !/^Node\.js v\d/.test(l));
    const error = [...lines].reverse().find((l) => /^(\w*Error|lockstep:)/.test(l));
    lastLines.set(p, `${consumer}: ${error ?? lines[lines.length - 1]}`);
  });
  return p;
}

/** `(codes); last words` of the workers that exited, for an error message. */
function exitNote(procs: ChildProcess[]): string {
  const said = procs.filter((p) => p.exitCode !== null && lastLines.has(p)).map((p) => lastLines.get(p));
  return `(${procs.map((p) => p.exitCode).join(',')})${said.length > 0 ? `; ${said.join('; ')}` : ''}`;
}

/** The rows of `t` received at or after `fromNs` (a live side started then has only those). */
function rowsFrom(t: DiffTable, fromNs: bigint): DiffTable {
  const keep = t.tsRecv.map((ts, i) => (ts >= fromNs ? i : -1)).filter((i) => i >= 0);
  const pick = <T>(a: T[]) => keep.map((i) => a[i]);
  return { columns: t.columns, symbol: pick(t.symbol), source: pick(t.source), seq: pick(t.seq), tsRecv: pick(t.tsRecv), values: Object.fromEntries(Object.entries(t.values).map(([c, v]) => [c, pick(v)])) };
}

/**
 * Entries the workers have not yet read or acknowledged, over every shard: 0 once every shard's
 * consumer group has read everything and acknowledged it; -1 while a group is missing or cannot
 * tell its lag.
 */
async function outstanding(url: string, keys: KeyLayout): Promise<number> {
  const r = await openRedis(url);
  let total = 0;
  try {
    for (let s = 0; s < keys.shards; s++) {
      // a shard that got no input (no heartbeats either, e.g. fundamentals only) has no stream until its worker creates the group
      const groups = (await r.xinfo('GROUPS', inputStream(keys, s)).catch((e: Error) => {
        if (/no such key/i.test(e.message)) return [];
        throw e;
      })) as unknown[][];
      const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]])))[0];
      if (!g || g.lag === null || g.lag === undefined) return -1;
      total += Number(g.pending) + Number(g.lag);
    }
    return total;
  } finally {
    r.disconnect();
  }
}

/**
 * The parity run: replays a catalog, feeds the same events through live workers over Redis (with
 * the faults asked for), diffs the two factor tables and returns a certificate of the result.
 */
export async function runParity(opts: ParityRunOptions): Promise<Certificate> {
  const log = opts.log ?? (() => {});
  const bothParams = opts.factorParams ?? [];
  const liveParams = [...bothParams, ...(opts.liveFactorParams ?? [])];
  // validated before anything starts: a bad setting is a usage error, not workers dying one by one
  const baseSet = opts.factors ?? DEFAULT_FACTORS;
  const factorArgs = opts.factorArgs ?? [];
  if (opts.factors && opts.factorArgs === undefined && featureSetVersion(baseSet) !== featureSetVersion(DEFAULT_FACTORS)) {
    throw new LockstepError('runParity: factors other than the default set need factorArgs, the `lockstep live` arguments that give the workers the same set');
  }
  const factorSet = withFactorParams(baseSet, bothParams);
  const sessions = readCatalogSessions(opts.catalog);
  const liveFsv = featureSetVersion(withFactorParams(baseSet, liveParams), sessions);
  const workers = opts.workers ?? 1;
  const liveFromNs = opts.liveFrom === undefined ? undefined : instantOf(opts.date, opts.liveFrom, '--live-from');
  // a replay window starts cold at --from, a warm worker folds the whole day before its start
  if (liveFromNs !== undefined && (opts.from || opts.to)) throw new UsageError('--live-from compares with the replay of the whole day: give it without --from/--to');
  // the weights of a live side started mid-session fold only its rows: no replay counterpart
  if (liveFromNs !== undefined && opts.weights) throw new UsageError('--weights certifies the whole day: give it without --live-from');
  // a bad weights config is one line before anything starts
  if (opts.weights) for (const f of [opts.weights.config, opts.weights.liveConfig]) if (f !== undefined) (await import('../portfolio/config.ts')).readWeightsConfig(f);
  // the acts are placed in the replay's span of the day, and with models the replay runs after the live side
  if (opts.weights?.control && opts.registry !== undefined) throw new UsageError('--weights-control acts at points of the replay\'s day, which with --registry runs after the live side: give it without --registry');
  const shards = opts.shards ?? Math.max(workers, 4);
  const work = mkdtempSync(join(tmpdir(), 'lockstep-parity-run-'));
  const harness = opts.redis ? null : await RedisHarness.start({ persistence: true });
  const url = opts.redis ?? harness!.url;
  const keys: KeyLayout = { ns: `parity-${Date.now().toString(36)}`, shards };
  const sel: ReplaySelection = { catalog: opts.catalog, date: opts.date, symbols: opts.symbols, from: opts.from, to: opts.to };
  const warm = opts.liveFrom !== undefined && opts.warm !== false;
  const workerExtra: string[] = warm ? ['--warm-from', opts.catalog, ...(opts.symbols ? ['--warm-symbols', opts.symbols.join(',')] : [])] : [];
  let procs: ChildProcess[] = [];
  let weightsDriver: ChildProcess | null = null;
  try {
    // cold on both sides: the live workers start from empty state at the window's first event
    const replayA = async (stages?: readonly SymbolStage[]) => {
      log(`A: replaying ${opts.date} offline${stages ? ' with the models of the live log' : ''}`);
      return runReplay({ ...sel, warmup: 0n, factors: factorSet, stages, out: join(work, 'replay.parquet'), progress: opts.status === true && process.stderr.isTTY === true });
    };
    // with models, the replay needs the live log as it was at the end of the day: it runs after B
    let a = opts.registry === undefined ? await replayA() : null;
    if (opts.registry !== undefined) await seedModelsLog(url, keys, opts.registry, factorSet, sessions);
    log(`B: feeding ${a?.events ?? 'the'} events into ${shards} shards at ${url} (namespace ${keys.ns}), ${workers} worker(s)${opts.killN ? `, ${opts.killN} SIGKILLs` : ''}`);
    if (opts.liveFrom) log(`B: the live side starts at ${opts.liveFrom}: events before it are not fed; workers start ${warm ? `warm, from ${opts.catalog}` : 'cold (no --warm-from)'}`);
    const feedDay = (onEvent?: FeedOptions['onEvent']) => runFeed({ ...sel, redis: url, ns: keys.ns, shards, speed: opts.speed ?? 'max', duplicate: opts.duplicate, log, status: opts.status, startNs: liveFromNs, onEvent });
    // with --weights-control the day is fed in parts, the operator's acts between them (weights-parity.ts)
    let acts: WeightsControlActs | undefined;
    const feeding = opts.weights?.control
      ? feedWithWeightsControl({ feed: feedDay, url, keys, last: a!.lastTsRecv ?? 0n, universe: (await import('../portfolio/config.ts')).readWeightsConfig(opts.weights.config).universe, driver: () => weightsDriver, log }).then((x) => {
        acts = x.acts;
        return x.fed;
      })
      : feedDay();
    const owned = Array.from({ length: workers }, (_, w) => Array.from({ length: shards }, (_, s) => s).filter((s) => s % workers === w));
    if (opts.registry !== undefined) workerExtra.push('--registry', opts.registry);
    procs = owned.map((o, w) => startWorker(url, keys, o, `w${w}`, factorArgs, liveParams, opts.catalog, workerExtra));
    if (opts.weights) weightsDriver = startWeightsDriver(ROOT, url, keys, opts.weights);
    const during = opts.during?.({ redis: url, keys });
    let seed = 0x9e3779b9;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < (opts.killN ?? 0); k++) {
      await new Promise((r) => setTimeout(r, 700 + Math.floor(rand() * 800)));
      const w = Math.floor(rand() * workers);
      procs[w].kill('SIGKILL');
      await new Promise((r) => procs[w].once('exit', r));
      log(`  chaos: killed worker ${w} (SIGKILL), restarting it`);
      procs[w] = startWorker(url, keys, owned[w], `w${w}`, factorArgs, liveParams, opts.catalog, workerExtra);
    }
    const fed = await feeding;
    await during;
    if (fed.duplicated > 0) log(`  chaos: ${fed.duplicated} events were published twice`);
    // workers run until every input is applied and acknowledged, then stop gracefully
    const deadline = Date.now() + 600_000;
    const status = opts.status ? new StatusLine(process.stderr) : null;
    // a failed look (Redis failing over, say) is "cannot tell yet": the workers ride it out too
    const look = () => outstanding(url, keys).catch(() => -1);
    for (let left = await look(); left !== 0; left = await look()) {
      if (Date.now() > deadline) throw new Error('live workers did not drain the input within 10 minutes');
      if (procs.some((p) => p.exitCode !== null)) throw new Error(`a live worker exited early ${exitNote(procs)}`);
      status?.update(() => `B: ${left < 0 ? 'waiting for the workers to start' : `${fmtCount(left)} stream entries not yet applied by the workers`}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    status?.clear();
    for (const p of procs) p.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => (p.exitCode !== null ? p.exitCode : new Promise<number | null>((r) => p.once('exit', r)))));
    if (codes.some((c) => c !== 0)) throw new Error(`a live worker exited with ${codes.join(',')}`);
    if (weightsDriver !== null) await finishWeightsDrivers(ROOT, url, keys, opts.weights!, weightsDriver);
    if (a === null) a = await replayA(await liveLogStages(url, keys, opts.registry!, factorSet, sessions, work));
    log('diffing A and B');
    const fullA = await loadTable(join(work, 'replay.parquet'));
    // a live side started mid-session has rows only for the events it was fed
    const A = liveFromNs === undefined ? fullA : rowsFrom(fullA, liveFromNs);
    // retried (from the top) while Redis fails over: a Cluster client meeting the dead master
    // before its replica's promotion fails with MOVED churn or a closed connection
    const B = await retryTransient(() => loadTable(captureUrl(url, keys.ns, shards)), 120_000, (e) => log(`capture: Redis failed (${e.message.split('\n')[0]}); reading again`));
    const diff = diffTables(A, B);
    // served latest values must equal A's last row per symbol
    // every symbol of the day: a warm worker serves the last value even of a symbol quiet since the start
    const last = new Map<string, number>();
    fullA.symbol.forEach((s, i) => last.set(s, i));
    const servedBad = await retryTransient(async () => {
      const r = await openRedis(url);
      try {
        let bad = 0;
        for (const [sym, i] of last) {
          const h = await r.hgetall(latestKey(keys, sym));
          if (h._seq !== fullA.seq[i].toString() || Object.keys(fullA.values).some((c) => (h[c] === '' ? null : Number(h[c])) !== fullA.values[c][i] && !(Number.isNaN(Number(h[c])) && Number.isNaN(fullA.values[c][i] as number)))) bad++;
        }
        return bad;
      } finally {
        r.disconnect();
      }
    }, 120_000);
    const files = await selectReplayFiles(sel);
    // the replay hashed these files for its own lineage: lineageOf reads each once per process
    const lineage = lineageOf({ factors: factorSet, sessions, files, root: opts.catalog });
    const { factors, ...rest } = diff;
    let weights: WeightsCertificate | undefined;
    if (opts.weights) {
      log('diffing the target weights of A and B');
      const liveWeights = await retryTransient(() => readLiveRebalances(url, keys), 120_000);
      weights = certifyWeights(opts.weights, await replayRebalances(join(work, 'replay.parquet'), opts.weights.config, work, await retryTransient(() => readLiveControl(url, keys), 120_000)), liveWeights, acts);
    }
    const cert: Certificate = {
      verdict: diff.verdict === 'parity' && servedBad === 0 && (weights?.verdict ?? 'parity') === 'parity' ? 'parity' : 'skew',
      scenario: {
        date: opts.date, workers, shards, chaos: [opts.killN ? `kill:${opts.killN}` : '', opts.duplicate ? `dup:${opts.duplicate}` : ''].filter(Boolean).join(',') || 'none', feedSpeed: opts.speed ? `${opts.speed}x` : 'max',
        ...(fed.duplicated > 0 ? { duplicatedEvents: fed.duplicated } : {}),
        ...(opts.liveFrom ? { liveFrom: opts.liveFrom, warmStart: warm ? 'catalog' as const : 'cold' as const } : {}),
        ...(opts.liveFactorParams?.length ? { injectedSkew: { liveFactorParams: [...opts.liveFactorParams], liveFeatureSetVersion: liveFsv } } : {}),
        ...(opts.symbols ? { symbols: [...opts.symbols] } : {}), ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}),
      },
      code: { ...gitCommit(), featureSetVersion: featureSetVersion(factorSet, sessions), factors: factorManifest(factorSet) },
      inputs: files.map((f, i) => ({ path: f.path, sha256: lineage.inputs[i].sha256 })),
      lineage,
      outputs: { replayFileSha256: a.output.sha256, replayTableHash: tableHash(A), liveTableHash: tableHash(B), rows: B.seq.length },
      diff: { ...rest, factorsWithMismatches: factors.filter((f) => f.mismatched > 0).map((f) => f.factor) },
      servedLatest: { symbols: last.size, mismatched: servedBad },
      ...(weights ? { weights } : {}),
    };
    if (opts.certificate) writeFileSync(opts.certificate, JSON.stringify(cert, null, 2));
    return cert;
  } finally {
    // workers still running (the run failed) would write the namespace again
    await Promise.all([...procs, ...(weightsDriver ? [weightsDriver] : [])].filter((p) => p.exitCode === null && p.signalCode === null).map((p) => new Promise((r) => {
      p.once('exit', r);
      p.kill('SIGKILL');
    })));
    if (opts.redis) {
      if (opts.keep) log(`kept namespace ${keys.ns} at ${redact(opts.redis)} (--keep)`);
      else {
        const n = await deleteNamespace(opts.redis, keys.ns).catch((e: Error) => {
          log(`could not delete namespace ${keys.ns} at ${redact(opts.redis!)}: ${e.message}`);
          return null;
        });
        if (n !== null) log(`deleted namespace ${keys.ns} (${n} keys) at ${redact(opts.redis)}`);
      }
    }
    await harness?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Seeds the live models log with the registry's own deployments.jsonl (what both sides start from). */
async function seedModelsLog(url: string, keys: KeyLayout, registry: string, factors: readonly AnyFactor[], sessions: SessionTable | undefined): Promise<void> {
  const { loadModelStages } = await import('../models/load.ts');
  const { appendLogEntry } = await import('../live/models/live-log.ts');
  // checked here (a bad registry is one line before anything starts)
  const { log } = loadModelStages(registry, createFactorSet(factors, { sessions }).columns);
  const r = await openRedis(url);
  try {
    for (const e of log) await appendLogEntry(r as Redis, keys.ns, e);
  } finally {
    r.disconnect();
  }
}

/** The registry's slots following the live log as exported now (written beside the run's files). */
async function liveLogStages(url: string, keys: KeyLayout, registry: string, factors: readonly AnyFactor[], sessions: SessionTable | undefined, work: string): Promise<SymbolStage[]> {
  const { loadModelStages, asStages } = await import('../models/load.ts');
  const { exportLiveLog } = await import('../live/models/live-log.ts');
  const r = await openRedis(url);
  try {
    const log = await exportLiveLog(r as Redis, keys.ns, join(work, 'deployments.jsonl'));
    return asStages(loadModelStages(registry, createFactorSet(factors, { sessions }).columns, log));
  } finally {
    r.disconnect();
  }
}

/** `ns` as a SCAN pattern that matches only itself. */
const globEscape = (ns: string) => ns.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Deletes every key of a namespace (`<ns>:*`) with SCAN and UNLINK (Redis frees the memory in the
 * background); on Cluster, on every master. Returns how many keys were deleted.
 */
export async function deleteNamespace(url: string, ns: string): Promise<number> {
  const r = await openRedis(url, { name: 'lockstep-parity-cleanup' });
  try {
    const nodes: RedisClient[] = r instanceof Cluster ? r.nodes('master') : [r];
    let n = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${globEscape(ns)}:*`, 'COUNT', 1000);
        cursor = next;
        // one key per UNLINK: on Cluster the keys of one batch live in different slots
        if (found.length > 0) {
          const p = node.pipeline();
          for (const k of found) p.unlink(k);
          for (const [err, res] of (await p.exec()) ?? []) {
            if (err) throw err;
            n += Number(res);
          }
        }
      } while (cursor !== '0');
    }
    return n;
  } finally {
    r.disconnect();
  }
}
