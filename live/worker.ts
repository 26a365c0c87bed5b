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
 * Shards are owned through leases: a fixed list (`owned`, default all), or with `balance` a fair
 * share that follows the balancing workers present (`<ns>:workers`), handed over between turns of
 * the loop with nothing read ahead, so a shard changes hands committed and with its state saved.
 *
 * Dead consumers' pending entries are claimed with XAUTOCLAIM when a worker takes a shard; an entry
 * delivered more than `maxDeliveries` times without being committed (a poison pill) is
 * dead-lettered with the reason. A malformed entry is dead-lettered at once; the worker never dies
 * for one bad event.
 *
 * Faults: every Redis call has a timeout (redis-connect.ts, stream-reader.ts). A failed commit is
 * retried with backoff, the batch kept in memory; nothing else is committed meanwhile and at most
 * one more batch is read ahead (memory stays bounded); the commit is idempotent and fenced by the
 * shard lease, so a retry or a superseded worker cannot write twice. `health()` reports whether
 * the last Redis round trip succeeded.
 *
 * Speed (bench/live-bench.ts): input is read by a small RESP reader instead of ioredis, whose reply
 * decoder cost more than the factors; the loop reads the next batch while applying this one and
 * applies it while this one's commit is in flight; on a single node one script call commits every
 * owned shard, and a shard's rows go out as one stream entry per commit.
 */
import type { MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { applyEvent, createFactorSet, initFold, type FactorSet, type FoldState } from '../core/fold.ts';
import { DEFAULT_FACTORS, featureSetVersion } from '../core/registry.ts';
import { decodeState, encodeState } from '../core/state-codec.ts';
import { randomUUID } from 'node:crypto';
import { COMMIT_BATCH_LUA, latestWrite, PRESENCE_LUA, RELEASE_LEASE_LUA, RENEW_LEASE_LUA, shardCommitArgs, type SentLatest } from './commit-script.ts';
import { ReplyShapeError, StreamReader, type Entry } from './stream-reader.ts';
import { checkpointKey, deadLetterStream, inputStream, latestKey, leaseKey, metaKey, outputStream, SYMBOL_RE, workersKey, type KeyLayout } from './keys.ts';
import { shardOf } from './shard.ts';
import { isClusterUrl, openRedis, type ConnectOptions, type RedisClient } from './redis-connect.ts';
import { decodeEvent } from './wire.ts';
import { LockstepError } from '../core/errors.ts';
import { defaultConsumer, WORKER_DEFAULTS } from './worker/defaults.ts';

export interface WorkerOptions extends ConnectOptions {
  redis: string;
  ns?: string;
  shards: number;
  /** Shards this worker owns (default: all). */
  owned?: readonly number[];
  /**
   * Instead of a fixed `owned` list, hold a fair share of the shards, ceil(shards / workers present),
   * and rebalance as balancing workers come and go (checked every leaseMs / 3): a worker above its
   * share hands its highest shards back (committed, with their state saved), one below it takes
   * free ones, lowest first, including those of a crashed worker once their lease runs out.
   */
  balance?: boolean;
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
 * Compares stream IDs "ms-seq" as Redis writes them (decimal, no leading zeros). Both parts are
 * below 2^53 for any real stream (ms since 1970, and a per-ms counter), so numbers compare them
 * exactly without BigInt allocations; it runs for every entry, so nothing is allocated.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  // same length and the '-' at the same place: the string order is the numeric one
  if (a.length === b.length && a.indexOf('-') === b.indexOf('-')) return a < b ? -1 : 1;
  const i = a.indexOf('-');
  const j = b.indexOf('-');
  const am = idPart(a, 0, i);
  const bm = idPart(b, 0, j);
  if (am !== bm) return am < bm ? -1 : 1;
  return idPart(a, i + 1, a.length) < idPart(b, j + 1, b.length) ? -1 : 1;
}

/** The decimal number in s[from, to), read in place (compareIds runs several times per event). */
function idPart(s: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) n = n * 10 + (s.charCodeAt(k) - 48);
  return n;
}

const ignoreRow = (): void => {};

/** The fold state as the commit's blob: a view of the encoded bytes, not a second copy. */
function stateBlob(fold: FoldState): Buffer {
  const b = encodeState(fold);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
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
  /**
   * Per symbol, the latest row this run last sent: the next write sends only what changed since
   * (commit-script.ts checks the hash is still at it, else writes every column).
   */
  sent: Map<string, SentLatest>;
  acks: string[];
  /** Entry IDs already dead-lettered during recovery (skip when re-read). */
  skip: Set<string>;
}

/** One shard's part of a commit script call (commit-script.ts), taken from its run. */
interface CommitPlan {
  run: ShardRun;
  /** The last input the commit covers (the run's `applied` when planned). */
  lastId: string;
  dueState: boolean;
  deadLetters: number;
  /** Events applied since the last saved state, when planned. */
  since: number;
  keys: string[];
  argv: (string | Buffer)[];
}

export interface WorkerHealth {
  healthy: boolean;
  lastOkAt: number;
  lastError: string | null;
  applied: number;
  deadLettered: number;
  commits: number;
}

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
    // String(-0) is '0': the parity diff tells -0 from +0 (Object.is), so live must keep the sign
    if (x !== null) v += x === 0 && 1 / x < 0 ? '-0' : String(x);
  }
  return v;
}

/**
 * The last values packed for one symbol and their text: most columns of a row equal the previous
 * row's (bar factors move once a minute, a book row changes two depth columns), and formatting a
 * double as its shortest decimal is the costliest part of a row, so unchanged ones reuse the text.
 */
export interface PackCache {
  last: (number | null | undefined)[];
  text: string[];
}

/** packValues(values), reusing the text of values equal to the previous call's with this cache. */
export function packValuesCached(values: readonly (number | null)[], cache: PackCache): string {
  const { last, text } = cache;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // same number (not 0: -0 === 0) or both null; NaN never equals itself and is re-formatted
    if (x === last[i] && x !== 0) continue;
    last[i] = x;
    text[i] = x === null ? '' : x === 0 && 1 / x < 0 ? '-0' : String(x);
  }
  if (text.length !== values.length) text.length = values.length;
  return text.join(',');
}

function encodeRowPacked(symbol: string, ev: MarketEvent, id: string, packed: string): string {
  return `${symbol}|${ev.kind}|${ev.seq}|${ev.tsEvent}|${ev.tsRecv}|${id}|${packed}`;
}

/**
 * A symbol's packed latest row, `_row` of its latest-value hash:
 * `ts_event|ts_recv|seq|source|at|fsv|v1,v2,...` (at = computed-at, the commit's wall time in ms).
 * The commit script derives the hash's other fields from it (commit-script.ts).
 */
function latestRow(r: LatestRow, fsv: string, at: string): string {
  return `${r.tsEvent}|${r.tsRecv}|${r.seq}|${r.kind}|${at}|${fsv}|${r.packed}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LiveWorker {
  /** Input reads on a single node: a lean RESP reader (stream-reader.ts). */
  private input: StreamReader | null = null;
  /** Input reads on Cluster, where ioredis routes each stream to its node. */
  private reader: RedisClient | null = null;
  private writer!: RedisClient;
  private readonly keys: KeyLayout;
  private readonly set: FactorSet;
  private readonly fsv: string;
  /** The output columns joined by ',' (the commit script's column list). */
  private readonly columnList: string;
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
    const { ns: _ns, ...defaults } = WORKER_DEFAULTS;
    this.opts = { ...defaults, consumer: defaultConsumer(), ...opts };
    this.keys = { ns: opts.ns ?? WORKER_DEFAULTS.ns, shards: opts.shards };
    this.token = `${this.opts.consumer}:${randomUUID()}`;
    const factors = opts.factors ?? DEFAULT_FACTORS;
    this.set = createFactorSet(factors);
    this.fsv = featureSetVersion(factors);
    this.columnList = this.set.columns.join(',');
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
    if (this.cluster) this.reader = await openRedis(this.opts.redis, { ...this.opts, name, commandTimeoutMs: (this.opts.commandTimeoutMs ?? 2000) + this.opts.blockMs });
    else this.input = new StreamReader(this.opts.redis, { ...this.opts, name: `${name}-in` });
    this.writer = await openRedis(this.opts.redis, { ...this.opts, name });
    // defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT, per node (Cluster-safe, and
    // safe after a Redis restart empties the script cache)
    this.writer.defineCommand('lockstepCommit', { lua: COMMIT_BATCH_LUA });
    this.writer.defineCommand('lockstepRenew', { numberOfKeys: 1, lua: RENEW_LEASE_LUA });
    this.writer.defineCommand('lockstepRelease', { numberOfKeys: 1, lua: RELEASE_LEASE_LUA });
    this.writer.defineCommand('lockstepPresence', { numberOfKeys: 1, lua: PRESENCE_LUA });
    await this.checkMeta();
    if (this.opts.balance) {
      if (this.opts.owned !== undefined) throw new Error('a balancing worker takes its shards itself: give either owned shards or balance, not both');
      await this.rebalance();
    } else {
      const owned = this.opts.owned ?? Array.from({ length: this.keys.shards }, (_, i) => i);
      for (const s of owned) {
        await this.takeLease(s);
        this.runs.set(s, await this.recover(s));
      }
    }
    this.ok();
  }

  /** The shards this worker holds now, ascending. */
  heldShards(): number[] {
    return [...this.runs.keys()].sort((a, b) => a - b);
  }

  private lastBalance = 0;

  private balanceDue(): boolean {
    return this.opts.balance === true && Date.now() - this.lastBalance >= this.opts.leaseMs / 3;
  }

  /**
   * One balancing step (the caller has applied and committed everything it read): announces this
   * worker, computes its share, hands back the shards above it and takes free ones below it.
   * Returns whether the held shards changed.
   */
  private async rebalance(): Promise<boolean> {
    this.lastBalance = Date.now();
    const presence = (this.writer as unknown as { lockstepPresence(key: string, token: string, ms: number): Promise<number> }).lockstepPresence;
    const present = Math.max(1, await presence.call(this.writer, workersKey(this.keys), this.token, this.opts.leaseMs));
    const share = Math.ceil(this.keys.shards / present);
    let changed = false;
    const held = this.heldShards();
    while (held.length > share) {
      await this.releaseShard(held.pop()!);
      changed = true;
    }
    for (let s = 0; s < this.keys.shards && this.runs.size < share && !this.stopping; s++) {
      if (this.runs.has(s)) continue;
      const got = await this.writer.set(leaseKey(this.keys, s), this.token, 'PX', this.opts.leaseMs, 'NX');
      if (got !== 'OK') continue;
      this.leased.push(s);
      this.lastLease = Date.now();
      this.runs.set(s, await this.recover(s));
      this.log(`shard ${s}: taken (${present} worker(s) present, share ${share})`);
      changed = true;
    }
    return changed;
  }

  /** Commits a shard's last work with its state (the next owner starts there) and frees its lease. */
  private async releaseShard(s: number): Promise<void> {
    const run = this.runs.get(s)!;
    await this.commitAll([run], false);
    const release = (this.writer as unknown as { lockstepRelease(key: string, token: string): Promise<number> }).lockstepRelease;
    await release.call(this.writer, leaseKey(this.keys, s), this.token);
    this.runs.delete(s);
    this.leased.splice(this.leased.indexOf(s), 1);
    this.log(`shard ${s}: handed back (rebalancing)`);
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
      sent: new Map(),
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
  private processEntry(run: ShardRun, entry: Entry): void {
    const id = entry[0];
    if (compareIds(id, run.applied) <= 0) {
      run.acks.push(id); // re-delivered after we applied it: just acknowledge
      return;
    }
    run.applied = id;
    run.sinceState++;
    const silent = compareIds(id, run.committed) <= 0;
    if (run.skip.size > 0 && run.skip.has(id)) return;
    const fields = entry[1];
    if (fields === null) return this.reject(run, entry, silent, 'entry was deleted from the stream before it was applied');
    const d = decodeEvent(fields);
    if (!d.ok) {
      const p = d.problem;
      return this.reject(run, entry, silent, `${p.field}=${p.value ?? '(missing)'}: ${p.reason}`);
    }
    const ev = d.event;
    if (ev.kind !== 'heartbeat') {
      let home = this.homes.get(ev.symbol);
      if (home === undefined) {
        if (!SYMBOL_RE.test(ev.symbol)) return this.reject(run, entry, silent, `s=${ev.symbol}: symbol must match ${SYMBOL_RE}`);
        home = shardOf(ev.symbol, this.keys.shards);
        if (this.homes.size >= 100_000) this.homes.clear(); // bounded, whatever producers send
        this.homes.set(ev.symbol, home);
      }
      if (home !== run.shard) return this.reject(run, entry, silent, `s=${ev.symbol}: belongs to shard ${home}, not ${run.shard} (producer and workers disagree on the shard count?)`);
    }
    this.status.applied++;
    if (silent) {
      applyEvent(this.set, run.fold, ev, ignoreRow);
      return;
    }
    this.sinkRun = run;
    this.sinkId = id;
    applyEvent(this.set, run.fold, ev, this.sink);
    run.acks.push(id);
  }

  /** Symbol → shard of the symbols seen (valid names only): shardOf hashes the UTF-8 bytes. */
  private readonly homes = new Map<string, number>();
  /** Symbol → latest-value key (it embeds the shard, so it is worth keeping too). */
  private readonly latestKeys = new Map<string, string>();

  private latestKeyOf(symbol: string): string {
    let k = this.latestKeys.get(symbol);
    if (k === undefined) {
      if (this.latestKeys.size >= 100_000) this.latestKeys.clear();
      this.latestKeys.set(symbol, (k = latestKey(this.keys, symbol)));
    }
    return k;
  }
  /** Per symbol values array (fold state): the text of its last packed values. */
  private readonly packCaches = new WeakMap<readonly (number | null)[], PackCache>();
  /** The run and input entry `sink` files rows under (one sink for all events: no closure per event). */
  private sinkRun: ShardRun | null = null;
  private sinkId = '';

  private readonly sink = (ev: MarketEvent, symbol: string, values: readonly (number | null)[]): void => {
    const run = this.sinkRun!;
    const id = this.sinkId;
    // values are formatted once per row; the latest-value hash is built at commit from the
    // symbol's newest row only (a batch often holds many rows of one symbol)
    // `values` is the symbol's own array in the fold state: its identity keys the text cache (weakly,
    // so states dropped by a recovery take their caches with them)
    let cache = this.packCaches.get(values);
    if (cache === undefined) this.packCaches.set(values, (cache = { last: [], text: [] }));
    const packed = packValuesCached(values, cache);
    run.rows.push(encodeRowPacked(symbol, ev, id, packed));
    run.latest.set(symbol, { id, kind: ev.kind, seq: ev.seq, tsEvent: ev.tsEvent, tsRecv: ev.tsRecv, packed });
  };

  /** Dead-letters an entry (unless it is a silent re-application: its dead letter exists). */
  private reject(run: ShardRun, [id, fields]: Entry, silent: boolean, reason: string): void {
    if (silent) return;
    run.dlq.push(['id', id, 'reason', reason, ...(fields ?? [])]);
    run.acks.push(id);
  }

  /** Commits one shard's queued work (see commitAll). */
  private commit(run: ShardRun, allowStateSkip = true): Promise<void> {
    return this.commitAll([run], allowStateSkip);
  }

  /**
   * Commits the queued rows, latest values, acks (and state when due) of the given shards; retries
   * until done. On a single node one script call commits them all (one round trip); on Cluster
   * each shard gets its own call, sent together. Everything a commit sends is taken from the runs
   * before the first await, so they can go on applying the next batch while this one is in flight
   * (never two commits of a shard at once: the run loop settles one before starting the next).
   * Waits for every shard before reporting the first failure, so no shard is left with a commit in
   * flight when the caller recovers or stops.
   *
   * At most one shard saves its state per call (unless `allowStateSkip` is false): encoding a
   * shard's state takes ~1-2 ms and its blob is ~100 KB+, and shards started together fall due
   * together; saved one per commit, the cost is spread instead of stalling every shard at once.
   * (In the 10k events/s bench, checkpoints off took p999 tick → served from ~50 ms to ~20 ms;
   * spreading them made no difference measurable through this VM's noise.)
   */
  private async commitAll(runs: readonly ShardRun[], allowStateSkip = true): Promise<void> {
    const plans: CommitPlan[] = [];
    let stateSlots = allowStateSkip ? 1 : runs.length;
    for (const run of runs) {
      const p = this.plan(run, allowStateSkip, stateSlots > 0);
      if (p === null) continue;
      plans.push(p);
      if (p.dueState) stateSlots--;
    }
    if (plans.length === 0) return;
    if (!this.cluster || plans.length === 1) return this.send(plans);
    const results = await Promise.allSettled(plans.map((p) => this.send([p])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A shard's part of a commit, taken from its run (which starts afresh), or null if nothing is due. */
  private plan(run: ShardRun, allowStateSkip: boolean, mayCheckpoint = true): CommitPlan | null {
    const lastId = run.applied;
    const stateBehind = run.stateId !== lastId;
    const dueState = stateBehind && (!allowStateSkip || (mayCheckpoint && (run.sinceState >= this.opts.checkpointEvery || Date.now() - run.stateAt >= this.opts.checkpointMs)));
    const nothing = run.rows.length === 0 && run.acks.length === 0 && run.latest.size === 0 && run.dlq.length === 0;
    if (nothing && !dueState && compareIds(lastId, run.committed) <= 0) return null;
    const keys = [leaseKey(this.keys, run.shard), outputStream(this.keys, run.shard), checkpointKey(this.keys, run.shard), inputStream(this.keys, run.shard), deadLetterStream(this.keys, run.shard)];
    const latestKeys = [...run.latest.keys()];
    for (const sym of latestKeys) keys.push(this.latestKeyOf(sym));
    const at = String(Date.now());
    const argv = shardCommitArgs(
      {
        lastId,
        expectedPrev: run.committed,
        stateId: dueState ? lastId : '',
        deadLetters: run.dlq,
        rows: run.rows,
        latest: latestKeys.map((sym) => {
          const r = run.latest.get(sym)!;
          const { write, sent } = latestWrite(r.id, latestRow(r, this.fsv, at), this.set.columns, run.sent.get(sym));
          // bounded: forgetting only costs the next write of a symbol its columns in full
          if (run.sent.size >= 100_000 && !run.sent.has(sym)) run.sent.clear();
          run.sent.set(sym, sent);
          return write;
        }),
        acks: run.acks,
        state: dueState ? stateBlob(run.fold) : '',
      },
    );
    const plan: CommitPlan = { run, lastId, dueState, deadLetters: run.dlq.length, since: run.sinceState, keys, argv };
    run.rows = [];
    run.dlq = [];
    run.latest = new Map();
    run.acks = [];
    return plan;
  }

  /** Sends the plans in one script call, retrying until Redis answers, and applies the results. */
  private async send(plans: readonly CommitPlan[]): Promise<void> {
    const keys: string[] = [];
    const argv: (string | Buffer)[] = [this.token, this.opts.group, String(this.opts.ttlSeconds), this.fsv, this.columnList, String(plans.length)];
    for (const p of plans) {
      keys.push(...p.keys);
      argv.push(...p.argv);
    }
    const shards = plans.map((p) => p.run.shard).join(',');
    let results: (number | string)[];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.renewLeases();
        results = (await (this.writer as unknown as { lockstepCommit(n: number, ...args: (string | Buffer)[]): Promise<(number | string)[]> }).lockstepCommit(keys.length, ...keys, ...argv)) as (number | string)[];
        this.ok();
        break;
      } catch (e) {
        if (e instanceof FatalWorkerError) throw e;
        const msg = String((e as Error).message);
        // a script or data error will not go away by retrying (and nothing was written: the
        // script checks everything before its first write)
        if (/^(ERR|WRONGTYPE)/.test(msg)) throw new FatalWorkerError(`shard(s) ${shards}: commit refused by Redis: ${msg}`);
        this.failed(e);
        this.log(`shard(s) ${shards}: commit failed (${msg}); retrying`);
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
        if (this.stopping && attempt > 50) throw e;
      }
    }
    let diverged: ShardDivergedError | null = null;
    for (let i = 0; i < plans.length; i++) {
      const { run, lastId, dueState, deadLetters, since } = plans[i];
      const res = results[i];
      if (typeof res === 'string') {
        if (res.startsWith('LEASE')) throw new FatalWorkerError(`shard ${run.shard}: lost the lease (${res}); stopping so the new owner is alone`);
        diverged ??= new ShardDivergedError(run.shard, res);
        continue;
      }
      // 1 = written now; 0 = the checkpoint already covers lastId (a retry whose first attempt
      // did commit, or a silent re-application during recovery): nothing was written
      const wrote = res === 1;
      this.status.commits++;
      this.status.deadLettered += deadLetters;
      // never move `committed` backwards: during recovery `applied` can still be below it
      if (compareIds(lastId, run.committed) > 0) run.committed = lastId;
      if (dueState && wrote) {
        run.stateId = lastId;
        run.sinceState -= since;
        run.stateAt = Date.now();
        // inputs before the saved state are no longer needed for recovery
        await this.writer.xtrim(inputStream(this.keys, run.shard), 'MINID', run.stateId).catch(() => {});
      }
    }
    if (diverged !== null) throw diverged;
  }

  /**
   * Entries delivered to this consumer group at or below `committed` but still pending were never
   * processed (a read whose reply was lost, e.g. re-sent by the Cluster client): recover the shard.
   */
  private async checkPendingGap(run: ShardRun): Promise<boolean> {
    const pending = (await this.writer.xpending(inputStream(this.keys, run.shard), this.opts.group, '-', run.committed, 1)) as unknown[];
    return pending.length > 0 && !run.skip.has((pending[0] as string[])[0]);
  }

  /** Commits of the last batch, in flight while the next one is read and applied. */
  private inflight: Promise<void> | null = null;

  /**
   * Waits for the commits in flight. A shard whose checkpoint is not where this worker left it
   * (someone else wrote, or Redis lost acknowledged writes) starts over from its checkpoint, which
   * re-reads every input after it, including any this worker applied since.
   */
  private async settle(): Promise<void> {
    const p = this.inflight;
    if (p === null) return;
    this.inflight = null;
    try {
      await p;
    } catch (e) {
      if (!(e instanceof ShardDivergedError)) throw e;
      this.log(`shard ${e.shard}: ${e.message}; recovering from the checkpoint`);
      this.runs.set(e.shard, await this.recover(e.shard));
    }
  }

  /**
   * Reads and processes until `stop()` (or until `idleStopMs` passes with no input, for tests).
   *
   * While entries are flowing the loop is pipelined: the next batch is read while this one is
   * applied (on a single node by a blocking read, already waiting when the next entries come), and
   * applied while this one's commit is in flight. A shard's commits still go one at a time and in
   * order, each fenced and chained to the last one (`expectedPrev`); entries read ahead are pending
   * for this consumer like any other delivered entry, so a crash or a recovery re-reads them.
   */
  async run(opts: { idleStopMs?: number } = {}): Promise<void> {
    let shards: number[] = [];
    let streams: string[] = [];
    let index = new Map<string, number>();
    const refresh = () => {
      shards = this.heldShards();
      streams = shards.map((s) => inputStream(this.keys, s));
      index = new Map(streams.map((st, i) => [st, shards[i]]));
    };
    refresh();
    let idleSince = Date.now();
    let recheck = false;
    let ahead: Promise<[string, Entry[]][] | null> | null = null;
    // on a single node the read ahead blocks: it is already waiting when the next entries come
    const readAhead = () => {
      const p = this.input !== null ? this.readBlocking(streams) : this.readNow(streams);
      p.catch(() => {}); // awaited (and its error handled) by the next iteration
      return p;
    };
    while (!this.stopping) {
      let res: [string, Entry[]][] | null;
      try {
        // balancing happens with nothing read ahead: every entry read so far is applied and
        // committed, so a shard handed back has nothing pending for this consumer
        if (ahead === null && this.balanceDue()) {
          await this.settle();
          await this.commitAll([...this.runs.values()]);
          try {
            await this.rebalance();
          } finally {
            // also after a step that failed halfway (a shard handed back, the next take refused)
            refresh();
          }
        }
        await this.renewLeases();
        if (recheck) {
          await this.settle();
          await this.drainOwnPending(shards, streams);
          recheck = false;
        }
        if (ahead !== null) {
          const p = ahead;
          ahead = null;
          res = await p;
          // Cluster reads ahead without blocking: caught up, so wait for the next entries
          if (this.input === null && (res === null || res.length === 0)) res = await this.readBlocking(streams);
        } else if (streams.length === 0) {
          // a balancing worker with no shard (yet): wait for its next balancing step
          await sleep(this.opts.blockMs);
          res = null;
        } else {
          res = await this.readNew(streams);
        }
        this.ok();
      } catch (e) {
        if (e instanceof FatalWorkerError || e instanceof ReplyShapeError) throw e;
        if (e instanceof ShardDivergedError) {
          // from a commit of drainOwnPending: the shard starts over from its checkpoint
          this.log(`shard ${e.shard}: ${e.message}; recovering from the checkpoint`);
          this.runs.set(e.shard, await this.recover(e.shard));
          continue;
        }
        // A read that timed out may still have been executed by Redis (e.g. it was frozen and
        // resumed): its entries are then pending for us but were never seen. Re-read our own
        // pending entries before reading new ones.
        recheck = true;
        this.failed(e);
        this.log(`read failed (${(e as Error).message}); retrying`);
        await sleep(200);
        continue;
      }
      if (!res || res.length === 0) {
        await this.settle();
        try {
          await this.commitAll([...this.runs.values()]);
          for (const r of this.runs.values()) {
            if (await this.checkPendingGap(r)) throw new ShardDivergedError(r.shard, 'entries were delivered but never processed');
          }
        } catch (e) {
          if (!(e instanceof ShardDivergedError)) throw e;
          this.log(`shard ${e.shard}: ${e.message}; recovering from the checkpoint`);
          this.runs.set(e.shard, await this.recover(e.shard));
        }
        if (opts.idleStopMs !== undefined && Date.now() - idleSince >= opts.idleStopMs) break;
        continue;
      }
      idleSince = Date.now();
      // a balancing step is due: read nothing ahead, so the next turn starts quiescent
      if (!this.stopping && !this.balanceDue()) ahead = readAhead();
      for (const [key, entries] of res) {
        const run = this.runs.get(index.get(key)!)!;
        for (const e of entries) this.processEntry(run, e);
      }
      await this.settle();
      // shards commit independently (own keys, own fencing), in one round trip on a single node
      this.inflight = this.commitAll([...this.runs.values()]);
      this.inflight.catch(() => {}); // settled (and its error handled) before the next commit
    }
    // entries already read ahead are applied and committed too
    if (ahead !== null) {
      const res = await (ahead as Promise<[string, Entry[]][] | null>).catch(() => null);
      for (const [key, entries] of res ?? []) {
        const run = this.runs.get(index.get(key)!)!;
        for (const e of entries) this.processEntry(run, e);
      }
    }
    await this.settle();
    await this.commitAll([...this.runs.values()], false);
  }

  /** Entries of `streams` after `id` ('>' = new ones), without blocking. */
  private async readNow(streams: readonly string[], id = '>'): Promise<[string, Entry[]][]> {
    const g = ['GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.batch] as const;
    if (this.input !== null) return (await this.input.readGroup(this.opts.group, this.opts.consumer, this.opts.batch, null, streams, streams.map(() => id))) ?? [];
    // Cluster: the streams live in different slots, one command each
    const out: [string, Entry[]][] = [];
    for (const st of streams) {
      const r = (await this.reader!.xreadgroup(...g, 'STREAMS', st, id)) as [string, Entry[]][] | null;
      if (r) out.push(...r);
    }
    return out;
  }

  /** New entries of the owned shards, waiting up to blockMs for some. */
  private async readNew(streams: string[]): Promise<[string, Entry[]][] | null> {
    if (this.input === null) {
      const ready = await this.readNow(streams);
      if (ready.length > 0) return ready;
    }
    return this.readBlocking(streams);
  }

  /**
   * One blocking XREADGROUP over all the owned shards on a single node; on Cluster the streams
   * live in different slots, so the loop blocks on one of them in turn.
   */
  private async readBlocking(streams: string[]): Promise<[string, Entry[]][] | null> {
    if (this.input !== null) return this.input.readGroup(this.opts.group, this.opts.consumer, this.opts.batch, this.opts.blockMs, streams, streams.map(() => '>'));
    const g = ['GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.batch, 'BLOCK', this.opts.blockMs] as const;
    if (streams.length === 1) return (await this.reader!.xreadgroup(...g, 'STREAMS', streams[0], '>')) as [string, Entry[]][] | null;
    this.rr = (this.rr + 1) % streams.length;
    return (await this.reader!.xreadgroup(...g, 'STREAMS', streams[this.rr], '>')) as [string, Entry[]][] | null;
  }

  /** Processes this consumer's pending entries (delivered to us, possibly never seen). */
  private async drainOwnPending(shards: number[], streams: string[]): Promise<void> {
    for (let i = 0; i < shards.length; i++) {
      const run = this.runs.get(shards[i])!;
      let from = '0';
      for (;;) {
        const entries = (await this.readNow([streams[i]], from))[0]?.[1] ?? [];
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
    // leaving: the other balancing workers take a larger share at their next step
    if (this.opts.balance) await this.writer?.zrem(workersKey(this.keys), this.token).catch(() => 0);
    this.input?.close();
    this.reader?.disconnect();
    this.writer?.disconnect();
  }
}

/** Not retried: the worker must stop (lost lease, refused commit, incompatible checkpoint). */
export class FatalWorkerError extends LockstepError {}

/** The shard's checkpoint is not where this worker left it: recover the shard from it. */
export class ShardDivergedError extends LockstepError {
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(message);
  }
}
