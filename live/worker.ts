/**
 * The live worker: reads its shards' input streams with XREADGROUP, runs the same fold as replay
 * (core/fold.ts, one fold state per shard), and commits each batch's output rows, latest values,
 * checkpoint and acks atomically (commit-script.ts).
 *
 * Recovery (nothing lost, nothing counted twice): the checkpoint holds the shard's fold state with
 * `stateId` (the last input applied to it) and `outId` (the last input whose outputs and ack are
 * committed). A (re)started worker restores the state and re-reads the input stream after
 * `stateId` with XRANGE: entries up to `outId` are re-applied silently (their outputs exist), the
 * rest are processed normally. It then reads new entries with XREADGROUP and skips any it has
 * already applied. The state is checkpointed every `checkpointEvery` events or `checkpointMs`;
 * input entries older than the state checkpoint are trimmed.
 *
 * Dead consumers' pending entries are claimed with XAUTOCLAIM when a worker takes a shard; an entry
 * delivered more than `maxDeliveries` times without being committed (a poison pill) is
 * dead-lettered with the reason. A malformed entry is dead-lettered at once; the worker never dies
 * for one bad event.
 *
 * Faults: every Redis call has a timeout (redis-connect.ts). A failed commit is retried with
 * backoff, the batch kept in memory and no new entries read meanwhile (memory stays bounded); the
 * commit is idempotent and fenced by the shard lease, so a retry or a superseded worker cannot
 * write twice. `health()` reports whether the last Redis round trip succeeded.
 */
import type { MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { applyEvent, createFactorSet, initFold, type FactorSet, type FoldState } from '../core/fold.ts';
import { DEFAULT_FACTORS, featureSetVersion } from '../core/registry.ts';
import { decodeState, encodeState } from '../core/state-codec.ts';
import { randomUUID } from 'node:crypto';
import { COMMIT_BATCH_LUA, RELEASE_LEASE_LUA, RENEW_LEASE_LUA } from './commit-script.ts';
import { checkpointKey, deadLetterStream, inputStream, latestKey, leaseKey, metaKey, outputStream, SYMBOL_RE, type KeyLayout } from './keys.ts';
import { shardOf } from './shard.ts';
import { isClusterUrl, openRedis, type ConnectOptions, type RedisClient } from './redis-connect.ts';
import { decodeEvent } from './wire.ts';

export interface WorkerOptions extends ConnectOptions {
  redis: string;
  ns?: string;
  shards: number;
  /** Shards this worker owns (default: all). */
  owned?: readonly number[];
  group?: string;
  consumer?: string;
  factors?: readonly AnyFactor[];
  /** Entries per XREADGROUP per shard. */
  batch?: number;
  blockMs?: number;
  checkpointEvery?: number;
  checkpointMs?: number;
  /** Expire latest-value keys this long after their last update (0 = never). */
  ttlSeconds?: number;
  maxDeliveries?: number;
  leaseMs?: number;
  log?: (msg: string) => void;
}

/**
 * Compares stream IDs "ms-seq". Both parts are below 2^53 for any real stream (ms since 1970,
 * and a per-ms counter), so numbers compare them exactly without BigInt allocations.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const i = a.indexOf('-');
  const j = b.indexOf('-');
  const am = Number(a.slice(0, i));
  const bm = Number(b.slice(0, j));
  if (am !== bm) return am < bm ? -1 : 1;
  return Number(a.slice(i + 1)) < Number(b.slice(j + 1)) ? -1 : 1;
}

/** The newest row of a symbol in the batch: the latest-value hash is built from it once, at commit. */
interface LatestRow {
  id: string;
  kind: string;
  seq: bigint;
  tsEvent: bigint;
  tsRecv: bigint;
  /** Values as in the output row: `v1,v2,...`, empty for null. */
  packed: string;
}

interface ShardRun {
  shard: number;
  fold: FoldState;
  /** Last input applied to `fold`. */
  applied: string;
  /** Last input committed (outputs + ack). */
  committed: string;
  /** Input applied to the last saved state. */
  stateId: string;
  sinceState: number;
  stateAt: number;
  /** Encoded output rows (stream field `r`). */
  rows: string[];
  /** Dead letters of the batch: written by the commit script, fenced like the rest. */
  dlq: string[][];
  latest: Map<string, LatestRow>;
  acks: string[];
  /** Entry IDs already dead-lettered during recovery (skip when re-read). */
  skip: Set<string>;
}

export interface WorkerHealth {
  healthy: boolean;
  lastOkAt: number;
  lastError: string | null;
  applied: number;
  deadLettered: number;
  commits: number;
}

type Entry = [id: string, fields: string[]];

/**
 * An output row as one stream field `r` (one bulk string instead of fourteen keeps the commit
 * cheap): `symbol|source|seq|ts_event|ts_recv|input entry id|v1,v2,...` with values in the
 * deployment's column order (`<ns>:meta` field `columns`), shortest round-trip decimals, empty for
 * null. read-output.ts parses it.
 */
export function encodeRow(symbol: string, ev: MarketEvent, id: string, values: readonly (number | null)[]): string {
  return encodeRowPacked(symbol, ev, id, packValues(values));
}

/** `v1,v2,...`: shortest round-trip decimals, empty for null. */
export function packValues(values: readonly (number | null)[]): string {
  let v = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) v += ',';
    const x = values[i];
    if (x !== null) v += String(x);
  }
  return v;
}

function encodeRowPacked(symbol: string, ev: MarketEvent, id: string, packed: string): string {
  return `${symbol}|${ev.kind}|${ev.seq}|${ev.tsEvent}|${ev.tsRecv}|${id}|${packed}`;
}

/**
 * Fields of a symbol's latest-value hash: meta (`_in`, `_te`, `_tr`, `_seq`, `_src`, `_fsv`, `_at`
 * = computed-at, the commit's wall time in ms), one field per column, and the whole row packed in
 * `_row` for one-string reads: `ts_event|ts_recv|seq|source|at|fsv|v1,v2,...`.
 */
function latestFields(r: LatestRow, cols: readonly string[], fsv: string, at: string): string[] {
  const f: string[] = ['_in', r.id, '_te', r.tsEvent.toString(), '_tr', r.tsRecv.toString(), '_seq', r.seq.toString(), '_src', r.kind, '_fsv', fsv, '_at', at];
  const vals = r.packed.split(',');
  for (let i = 0; i < cols.length; i++) f.push(cols[i], vals[i]);
  f.push('_row', `${r.tsEvent}|${r.tsRecv}|${r.seq}|${r.kind}|${at}|${fsv}|${r.packed}`);
  return f;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LiveWorker {
  private reader!: RedisClient;
  private writer!: RedisClient;
  private readonly keys: KeyLayout;
  private readonly set: FactorSet;
  private readonly fsv: string;
  private readonly runs = new Map<number, ShardRun>();
  private readonly opts: Required<Pick<WorkerOptions, 'group' | 'consumer' | 'batch' | 'blockMs' | 'checkpointEvery' | 'checkpointMs' | 'ttlSeconds' | 'maxDeliveries' | 'leaseMs'>> & WorkerOptions;
  private stopping = false;
  private lastLease = 0;
  /** This run's lease token: a restarted or resumed process never passes for another. */
  private readonly token: string;
  private cluster = false;
  private rr = 0;
  private readonly status: WorkerHealth = { healthy: false, lastOkAt: 0, lastError: null, applied: 0, deadLettered: 0, commits: 0 };

  constructor(opts: WorkerOptions) {
    this.opts = {
      group: 'lockstep',
      consumer: `worker-${process.pid}`,
      batch: 512,
      blockMs: 100,
      checkpointEvery: 100_000,
      checkpointMs: 10_000,
      ttlSeconds: 0,
      maxDeliveries: 5,
      leaseMs: 10_000,
      ...opts,
    };
    this.keys = { ns: opts.ns ?? 'ls', shards: opts.shards };
    this.token = `${this.opts.consumer}:${randomUUID()}`;
    const factors = opts.factors ?? DEFAULT_FACTORS;
    this.set = createFactorSet(factors);
    this.fsv = featureSetVersion(factors);
  }

  health(): WorkerHealth {
    return { ...this.status };
  }

  private log(msg: string): void {
    this.opts.log?.(msg);
  }

  private ok(): void {
    this.status.healthy = true;
    this.status.lastOkAt = Date.now();
    this.status.lastError = null;
  }

  private failed(e: unknown): void {
    this.status.healthy = false;
    this.status.lastError = (e as Error).message ?? String(e);
  }

  /** Connects, takes the owned shards and recovers each from its checkpoint. */
  async start(): Promise<void> {
    const name = `lockstep-worker-${this.opts.consumer}`;
    this.cluster = isClusterUrl(this.opts.redis);
    this.reader = await openRedis(this.opts.redis, { ...this.opts, name, commandTimeoutMs: (this.opts.commandTimeoutMs ?? 2000) + this.opts.blockMs });
    this.writer = await openRedis(this.opts.redis, { ...this.opts, name });
    // defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT, per node (Cluster-safe, and
    // safe after a Redis restart empties the script cache)
    this.writer.defineCommand('lockstepCommit', { lua: COMMIT_BATCH_LUA });
    this.writer.defineCommand('lockstepRenew', { numberOfKeys: 1, lua: RENEW_LEASE_LUA });
    this.writer.defineCommand('lockstepRelease', { numberOfKeys: 1, lua: RELEASE_LEASE_LUA });
    await this.checkMeta();
    const owned = this.opts.owned ?? Array.from({ length: this.keys.shards }, (_, i) => i);
    for (const s of owned) {
      await this.takeLease(s);
      this.runs.set(s, await this.recover(s));
    }
    this.ok();
  }

  private async checkMeta(): Promise<void> {
    const key = metaKey(this.keys);
    const meta = await this.writer.hgetall(key);
    if (meta.shards && Number(meta.shards) !== this.keys.shards) {
      throw new Error(`${key} says ${meta.shards} shards; this worker was started with --shards ${this.keys.shards}`);
    }
    if (meta.featureSetVersion && meta.featureSetVersion !== this.fsv) {
      this.log(`warning: ${key} feature set ${meta.featureSetVersion} differs from this worker's ${this.fsv}`);
    }
    await this.writer.hset(key, 'shards', String(this.keys.shards), 'featureSetVersion', this.fsv, 'columns', this.set.columns.join(','));
  }

  private readonly leased: number[] = [];

  /**
   * Takes a shard's lease with this run's token, waiting for a previous holder's lease to expire
   * (a crashed worker's lease runs out after leaseMs; a live one keeps renewing it).
   */
  private async takeLease(s: number): Promise<void> {
    const key = leaseKey(this.keys, s);
    for (;;) {
      const got = await this.writer.set(key, this.token, 'PX', this.opts.leaseMs, 'NX');
      if (got === 'OK') {
        this.leased.push(s);
        this.lastLease = Date.now();
        return;
      }
      if (this.stopping) throw new Error('stopped while waiting for a lease');
      this.log(`shard ${s} is leased by ${await this.writer.get(key)}; waiting for it to expire`);
      await this.renewLeases(true);
      await sleep(Math.min(500, this.opts.leaseMs / 4));
    }
  }

  /** Renews the leases this run holds; losing one is fatal (another worker owns the shard now). */
  private async renewLeases(force = false): Promise<void> {
    if (this.leased.length === 0 || (!force && Date.now() - this.lastLease < this.opts.leaseMs / 3)) return;
    const renew = (this.writer as unknown as { lockstepRenew(key: string, token: string, ms: number): Promise<number> }).lockstepRenew.bind(this.writer);
    const res = await Promise.all(this.leased.map((s) => renew(leaseKey(this.keys, s), this.token, this.opts.leaseMs)));
    this.lastLease = Date.now();
    const lost = this.leased.filter((_, i) => res[i] !== 1);
    if (lost.length > 0) throw new FatalWorkerError(`lost the lease of shard(s) ${lost.join(',')}: another worker owns them now; stopping`);
  }

  private async recover(s: number): Promise<ShardRun> {
    const inKey = inputStream(this.keys, s);
    try {
      await this.writer.xgroup('CREATE', inKey, this.opts.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    const ckBuf = await this.writer.hgetallBuffer(checkpointKey(this.keys, s));
    const ck: Record<string, Buffer> = ckBuf;
    const ckFsv = ck.featureSetVersion?.toString();
    if (ck.state && ckFsv !== undefined && ckFsv !== this.fsv) {
      throw new FatalWorkerError(`shard ${s}: its checkpoint was made by feature set ${ckFsv}, this worker runs ${this.fsv}; replay the shard from scratch (delete ${checkpointKey(this.keys, s)}) or run the matching version`);
    }
    const run: ShardRun = {
      shard: s,
      fold: ck.state ? decodeState<FoldState>(new Uint8Array(ck.state)) : initFold(),
      applied: ck.stateId?.toString() ?? '0-0',
      committed: ck.outId?.toString() ?? '0-0',
      stateId: ck.stateId?.toString() ?? '0-0',
      sinceState: 0,
      stateAt: Date.now(),
      rows: [],
      dlq: [],
      latest: new Map(),
      acks: [],
      skip: new Set(Object.keys(ck).filter((k) => k.startsWith('skip:')).map((k) => k.slice(5))),
    };
    await this.claimAndPoison(run);
    // Catch up from the state checkpoint: silently up to `committed`, normally after it, as far
    // as the group has delivered (later entries come through XREADGROUP as usual).
    const groups = (await this.writer.xinfo('GROUPS', inKey)) as unknown[][];
    const info = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === this.opts.group);
    const delivered = String(info?.['last-delivered-id'] ?? '0-0');
    let from = `(${run.applied}`;
    while (compareIds(run.applied, delivered) < 0) {
      const entries = (await this.writer.xrange(inKey, from, delivered, 'COUNT', this.opts.batch)) as Entry[];
      if (entries.length === 0) break;
      for (const e of entries) this.processEntry(run, e);
      await this.commit(run, false);
      from = `(${entries[entries.length - 1][0]}`;
    }
    this.log(`shard ${s}: recovered at ${run.applied} (state ${run.stateId}, outputs ${run.committed})`);
    return run;
  }

  /** Claims pending entries of dead consumers; dead-letters those delivered too many times. */
  private async claimAndPoison(run: ShardRun): Promise<void> {
    const inKey = inputStream(this.keys, run.shard);
    let cursor = '0-0';
    do {
      // without JUSTID: claiming counts as a delivery, which is what makes poison entries visible
      const res = (await this.writer.xautoclaim(inKey, this.opts.group, this.opts.consumer, 0, cursor, 'COUNT', 1000)) as [string, unknown[]];
      cursor = res[0];
    } while (cursor !== '0-0');
    const pending = (await this.writer.xpending(inKey, this.opts.group, '-', '+', 10_000)) as [string, string, number, number][];
    for (const [id, , , deliveries] of pending) {
      if (deliveries <= this.opts.maxDeliveries || compareIds(id, run.committed) <= 0) continue;
      const entry = (await this.writer.xrange(inKey, id, id)) as Entry[];
      await this.deadLetter(run.shard, id, entry[0]?.[1] ?? [], `delivered ${deliveries} times without being committed (poison entry)`);
      // remembered in the checkpoint, so a crash before the next commit cannot apply it after all
      await this.writer.hset(checkpointKey(this.keys, run.shard), `skip:${id}`, '1');
      await this.writer.xack(inKey, this.opts.group, id);
      run.skip.add(id);
    }
  }

  private async deadLetter(s: number, id: string, fields: readonly string[], reason: string): Promise<void> {
    await this.writer.xadd(deadLetterStream(this.keys, s), '*', 'id', id, 'reason', reason, ...fields);
    this.status.deadLettered++;
  }

  /** Applies one input entry to the shard's fold; queues its outputs unless already committed. */
  private processEntry(run: ShardRun, [id, fields]: [string, string[] | null]): void {
    if (compareIds(id, run.applied) <= 0) {
      run.acks.push(id); // re-delivered after we applied it: just acknowledge
      return;
    }
    run.applied = id;
    run.sinceState++;
    const silent = compareIds(id, run.committed) <= 0;
    if (run.skip.has(id)) return;
    const reject = (reason: string) => {
      if (silent) return;
      run.dlq.push(['id', id, 'reason', reason, ...(fields ?? [])]);
      run.acks.push(id);
    };
    if (fields === null) return reject('entry was deleted from the stream before it was applied');
    const d = decodeEvent(fields);
    if (!d.ok) {
      const p = d.problem;
      return reject(`${p.field}=${p.value ?? '(missing)'}: ${p.reason}`);
    }
    if (d.event.kind !== 'heartbeat') {
      if (!SYMBOL_RE.test(d.event.symbol)) return reject(`s=${d.event.symbol}: symbol must match ${SYMBOL_RE}`);
      const home = shardOf(d.event.symbol, this.keys.shards);
      if (home !== run.shard) return reject(`s=${d.event.symbol}: belongs to shard ${home}, not ${run.shard} (producer and workers disagree on the shard count?)`);
    }
    this.status.applied++;
    applyEvent(this.set, run.fold, d.event, (ev: MarketEvent, symbol: string, values: readonly (number | null)[]) => {
      if (silent) return;
      // values are formatted once per row; the latest-value hash is built at commit from the
      // symbol's newest row only (a batch often holds many rows of one symbol)
      const packed = packValues(values);
      run.rows.push(encodeRowPacked(symbol, ev, id, packed));
      run.latest.set(symbol, { id, kind: ev.kind, seq: ev.seq, tsEvent: ev.tsEvent, tsRecv: ev.tsRecv, packed });
    });
    if (!silent) run.acks.push(id);
  }

  /** Commits the shard's queued rows, latest values, acks (and state when due); retries until done. */
  private async commit(run: ShardRun, allowStateSkip = true): Promise<void> {
    const stateBehind = run.stateId !== run.applied;
    const dueState = stateBehind && (run.sinceState >= this.opts.checkpointEvery || Date.now() - run.stateAt >= this.opts.checkpointMs || !allowStateSkip);
    const nothing = run.rows.length === 0 && run.acks.length === 0 && run.latest.size === 0 && run.dlq.length === 0;
    if (nothing && !dueState && compareIds(run.applied, run.committed) <= 0) return;
    const keys = [leaseKey(this.keys, run.shard), outputStream(this.keys, run.shard), checkpointKey(this.keys, run.shard), inputStream(this.keys, run.shard), deadLetterStream(this.keys, run.shard)];
    const latestKeys = [...run.latest.keys()];
    for (const sym of latestKeys) keys.push(latestKey(this.keys, sym));
    const argv: (string | Buffer)[] = [this.token, this.opts.group, run.applied, run.committed, String(this.opts.ttlSeconds), dueState ? run.applied : '', this.fsv, String(run.dlq.length)];
    for (const d of run.dlq) argv.push(String(d.length), ...d);
    argv.push(String(run.rows.length));
    for (const r of run.rows) argv.push('2', 'r', r);
    argv.push(String(latestKeys.length));
    const at = String(Date.now());
    const cols = this.set.columns;
    for (const sym of latestKeys) {
      const f = latestFields(run.latest.get(sym)!, cols, this.fsv, at);
      argv.push(String(f.length), ...f);
    }
    argv.push(String(run.acks.length), ...run.acks);
    if (dueState) argv.push(Buffer.from(encodeState(run.fold)));
    let wrote = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.renewLeases();
        // 1 = written now; 0 = the checkpoint already covers run.applied (a retry whose first
        // attempt did commit, or a silent re-application during recovery): nothing was written
        wrote = (await (this.writer as unknown as { lockstepCommit(n: number, ...args: (string | Buffer)[]): Promise<number> }).lockstepCommit(keys.length, ...keys, ...argv)) === 1;
        this.ok();
        break;
      } catch (e) {
        if (e instanceof FatalWorkerError) throw e;
        const msg = String((e as Error).message);
        if (msg.includes('LEASE')) throw new FatalWorkerError(`shard ${run.shard}: lost the lease (${msg}); stopping so the new owner is alone`);
        if (msg.includes('DIVERGED')) throw new ShardDivergedError(run.shard, msg);
        // a script or data error will not go away by retrying (and nothing was written: the
        // script checks everything before its first write)
        if (/^(ERR|WRONGTYPE)/.test(msg)) throw new FatalWorkerError(`shard ${run.shard}: commit refused by Redis: ${msg}`);
        this.failed(e);
        this.log(`shard ${run.shard}: commit failed (${msg}); retrying`);
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
        if (this.stopping && attempt > 50) throw e;
      }
    }
    this.status.commits++;
    this.status.deadLettered += run.dlq.length;
    // never move `committed` backwards: during recovery `applied` can still be below it
    if (compareIds(run.applied, run.committed) > 0) run.committed = run.applied;
    run.rows = [];
    run.dlq = [];
    run.latest.clear();
    run.acks = [];
    if (dueState && wrote) {
      run.stateId = run.applied;
      run.sinceState = 0;
      run.stateAt = Date.now();
      // inputs before the saved state are no longer needed for recovery
      await this.writer.xtrim(inputStream(this.keys, run.shard), 'MINID', run.stateId).catch(() => {});
    }
  }

  /**
   * Commits several shards concurrently. Waits for every commit before reporting the first
   * failure, so no shard is left with a commit in flight when the caller recovers or stops.
   */
  private async commitAll(runs: readonly ShardRun[]): Promise<void> {
    if (runs.length === 1) return this.commit(runs[0]);
    const results = await Promise.allSettled(runs.map((r) => this.commit(r)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Entries delivered to this consumer group at or below `committed` but still pending were never
   * processed (a read whose reply was lost, e.g. re-sent by the Cluster client): recover the shard.
   */
  private async checkPendingGap(run: ShardRun): Promise<boolean> {
    const pending = (await this.writer.xpending(inputStream(this.keys, run.shard), this.opts.group, '-', run.committed, 1)) as unknown[];
    return pending.length > 0 && !run.skip.has((pending[0] as string[])[0]);
  }

  /** Reads and processes until `stop()` (or until `idleStopMs` passes with no input, for tests). */
  async run(opts: { idleStopMs?: number } = {}): Promise<void> {
    const shards = [...this.runs.keys()];
    const streams = shards.map((s) => inputStream(this.keys, s));
    let idleSince = Date.now();
    let recheck = false;
    while (!this.stopping) {
      let res: [string, Entry[]][] | null;
      try {
        await this.renewLeases();
        if (recheck) {
          await this.drainOwnPending(shards, streams);
          recheck = false;
        }
        res = await this.readNew(streams);
        this.ok();
      } catch (e) {
        // A read that timed out may still have been executed by Redis (e.g. it was frozen and
        // resumed): its entries are then pending for us but were never seen. Re-read our own
        // pending entries before reading new ones.
        recheck = true;
        this.failed(e);
        this.log(`read failed (${(e as Error).message}); retrying`);
        await sleep(200);
        continue;
      }
      try {
        if (!res || res.length === 0) {
          for (const r of this.runs.values()) {
            await this.commit(r);
            if (r.rows.length === 0 && (await this.checkPendingGap(r))) throw new ShardDivergedError(r.shard, 'entries were delivered but never processed');
          }
          if (opts.idleStopMs !== undefined && Date.now() - idleSince >= opts.idleStopMs) break;
          continue;
        }
        idleSince = Date.now();
        const touched: ShardRun[] = [];
        for (const [key, entries] of res) {
          const run = this.runs.get(shards[streams.indexOf(key)])!;
          for (const e of entries) this.processEntry(run, e);
          touched.push(run);
        }
        // shards commit independently (own keys, own fencing): one round trip for all of them
        await this.commitAll(touched);
      } catch (e) {
        if (!(e instanceof ShardDivergedError)) throw e;
        // someone else wrote, or Redis lost acknowledged writes: start the shard over from its
        // checkpoint, which re-reads every input after it
        this.log(`shard ${e.shard}: ${e.message}; recovering from the checkpoint`);
        this.runs.set(e.shard, await this.recover(e.shard));
      }
    }
    for (const r of this.runs.values()) await this.commit(r, false);
  }

  /**
   * New entries of the owned shards. One blocking XREADGROUP over all of them on a single node; on
   * Cluster the streams live in different slots, so each is read without blocking and the loop
   * blocks on one of them only when all were empty.
   */
  private async readNew(streams: string[]): Promise<[string, Entry[]][] | null> {
    const g = ['GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.batch] as const;
    if (!this.cluster || streams.length === 1) {
      return (await this.reader.xreadgroup(...g, 'BLOCK', this.opts.blockMs, 'STREAMS', ...streams, ...streams.map(() => '>'))) as [string, Entry[]][] | null;
    }
    const out: [string, Entry[]][] = [];
    for (const st of streams) {
      const r = (await this.reader.xreadgroup(...g, 'STREAMS', st, '>')) as [string, Entry[]][] | null;
      if (r) out.push(...r);
    }
    if (out.length > 0) return out;
    this.rr = (this.rr + 1) % streams.length;
    return (await this.reader.xreadgroup(...g, 'BLOCK', this.opts.blockMs, 'STREAMS', streams[this.rr], '>')) as [string, Entry[]][] | null;
  }

  /** Processes this consumer's pending entries (delivered to us, possibly never seen). */
  private async drainOwnPending(shards: number[], streams: string[]): Promise<void> {
    for (let i = 0; i < shards.length; i++) {
      const run = this.runs.get(shards[i])!;
      let from = '0';
      for (;;) {
        const res = (await this.reader.xreadgroup('GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.batch, 'STREAMS', streams[i], from)) as [string, Entry[]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        for (const e of entries) this.processEntry(run, e);
        await this.commit(run);
        from = entries[entries.length - 1][0];
      }
    }
  }

  stop(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    // hand the shards back at once (a crashed worker's leases expire after leaseMs instead)
    const release = (this.writer as unknown as { lockstepRelease?: (key: string, token: string) => Promise<number> } | undefined)?.lockstepRelease;
    if (release) await Promise.all(this.leased.map((s) => release.call(this.writer, leaseKey(this.keys, s), this.token).catch(() => 0)));
    this.reader?.disconnect();
    this.writer?.disconnect();
  }
}

/** Not retried: the worker must stop (lost lease, refused commit, incompatible checkpoint). */
export class FatalWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FatalWorkerError';
  }
}

/** The shard's checkpoint is not where this worker left it: recover the shard from it. */
export class ShardDivergedError extends Error {
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(message);
    this.name = 'ShardDivergedError';
  }
}
