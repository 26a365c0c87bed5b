/**
 * Planning and sending commits: each shard's queued rows, latest values, dead letters, acks (and
 * state when due) go to Redis in one fenced, idempotent script call (commit-script.ts), retried
 * until Redis answers.
 */
import type { FactorSet, FoldState } from '../../core/fold.ts';
import { encodeState } from '../../core/state-codec.ts';
import { latestWrite, shardCommitArgs } from '../commit-script.ts';
import { checkpointKey, deadLetterStream, inputStream, latestKey, leaseKey, outputStream, type KeyLayout } from '../keys.ts';
import { compareIds } from '../stream-id.ts';
import type { WorkerRedis } from './commands.ts';
import { FatalWorkerError, LeaseExpiredError, ShardDivergedError } from './errors.ts';
import { markFailed, markOk, type WorkerHealth } from './health.ts';
import { describeHolder, type LeaseManager } from './leases.ts';
import type { OutageLog } from './outage-log.ts';
import type { ResolvedWorkerOptions } from './options.ts';
import { latestRow } from './row-format.ts';
import type { ShardRun } from './shard-run.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fold state as the commit's blob: a view of the encoded bytes, not a second copy. */
function stateBlob(fold: FoldState): Buffer {
  const b = encodeState(fold);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
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

/** What a Committer works with, besides the write client. */
export interface CommitterContext {
  opts: ResolvedWorkerOptions;
  keys: KeyLayout;
  token: string;
  set: FactorSet;
  fsv: string;
  status: WorkerHealth;
  leases: LeaseManager;
  /** On Cluster each shard gets its own script call (its keys live in its own slot). */
  cluster: boolean;
  log: (msg: string) => void;
  /** Where failed round trips are logged (rate-limited). */
  outage: OutageLog;
  stopping: () => boolean;
}

export class Committer {
  /** Symbol → latest-value key (it embeds the shard, so it is worth keeping). */
  private readonly latestKeys = new Map<string, string>();
  /** The output columns joined by ',' (the commit script's column list). */
  private readonly columnList: string;

  constructor(
    private readonly writer: WorkerRedis,
    private readonly c: CommitterContext,
  ) {
    this.columnList = c.set.columns.join(',');
  }

  /** Commits one shard's queued work (see commitAll). */
  commit(run: ShardRun, allowStateSkip = true): Promise<void> {
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
  async commitAll(runs: readonly ShardRun[], allowStateSkip = true): Promise<void> {
    const plans: CommitPlan[] = [];
    let stateSlots = allowStateSkip ? 1 : runs.length;
    for (const run of runs) {
      const p = this.plan(run, allowStateSkip, stateSlots > 0);
      if (p === null) continue;
      plans.push(p);
      if (p.dueState) stateSlots--;
    }
    if (plans.length === 0) return;
    if (!this.c.cluster || plans.length === 1) return this.send(plans);
    const results = await Promise.allSettled(plans.map((p) => this.send([p])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private latestKeyOf(symbol: string): string {
    let k = this.latestKeys.get(symbol);
    if (k === undefined) {
      if (this.latestKeys.size >= 100_000) this.latestKeys.clear();
      this.latestKeys.set(symbol, (k = latestKey(this.c.keys, symbol)));
    }
    return k;
  }

  /** A shard's part of a commit, taken from its run (which starts afresh), or null if nothing is due. */
  private plan(run: ShardRun, allowStateSkip: boolean, mayCheckpoint = true): CommitPlan | null {
    const { opts, keys: layout, fsv, set } = this.c;
    const lastId = run.applied;
    const stateBehind = run.stateId !== lastId;
    const dueState = stateBehind && (!allowStateSkip || (mayCheckpoint && (run.sinceState >= opts.checkpointEvery || Date.now() - run.stateAt >= opts.checkpointMs)));
    const nothing = run.rows.length === 0 && run.acks.length === 0 && run.latest.size === 0 && run.dlq.length === 0;
    if (nothing && !dueState && compareIds(lastId, run.committed) <= 0) return null;
    const keys = [leaseKey(layout, run.shard), outputStream(layout, run.shard), checkpointKey(layout, run.shard), inputStream(layout, run.shard), deadLetterStream(layout, run.shard)];
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
          const { write, sent } = latestWrite(r.id, latestRow(r, fsv, at), set.columns, run.sent.get(sym));
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
    const { opts, status } = this.c;
    const keys: string[] = [];
    const argv: (string | Buffer)[] = [this.c.token, opts.group, String(opts.ttlSeconds), this.c.fsv, this.columnList, String(plans.length)];
    for (const p of plans) {
      keys.push(...p.keys);
      argv.push(...p.argv);
    }
    const shards = plans.map((p) => p.run.shard).join(',');
    let results: (number | string)[];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.c.leases.renew();
        const t0 = performance.now();
        results = await this.writer.lockstepCommit(keys.length, ...keys, ...argv);
        if ((opts.durableReplicas ?? 0) > 0) await this.waitForReplicas(shards);
        status.commitSeconds += (performance.now() - t0) / 1000;
        markOk(status);
        this.c.outage.ok();
        break;
      } catch (e) {
        if (e instanceof FatalWorkerError) throw e;
        // the plans' work left the runs: every shard of this call starts over from its checkpoint
        if (e instanceof LeaseExpiredError) throw new LeaseExpiredError(e.lost, [...new Set([...e.lost, ...plans.map((p) => p.run.shard)])]);
        const msg = String((e as Error).message);
        // a script or data error will not go away by retrying (and nothing was written: the
        // script checks everything before its first write)
        if (/^(ERR|WRONGTYPE)/.test(msg)) throw new FatalWorkerError(`shard(s) ${shards}: commit refused by Redis: ${msg}`);
        markFailed(status, e);
        this.c.outage.failed(`shard(s) ${shards}: commit`, e);
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
        if (this.c.stopping() && attempt > 50) throw e;
      }
    }
    let diverged: ShardDivergedError | null = null;
    let expired: number[] | null = null;
    for (let i = 0; i < plans.length; i++) {
      const { run, lastId, dueState, deadLetters, since } = plans[i];
      const res = results[i];
      if (typeof res === 'string') {
        if (res.startsWith('LEASE')) {
          const holder = await this.c.leases.holder(run.shard);
          if (holder !== null && holder !== this.c.token) throw new FatalWorkerError(`shard ${run.shard}: lost its lease, and ${describeHolder(holder)} holds it now; stopping so the new owner is alone`);
          // expired, nobody else took it: nothing was written for this shard
          this.c.leases.forget(run.shard);
          (expired ??= []).push(run.shard);
          continue;
        }
        diverged ??= new ShardDivergedError(run.shard, res);
        continue;
      }
      // 1 = written now; 0 = the checkpoint already covers lastId (a retry whose first attempt
      // did commit, or a silent re-application during recovery): nothing was written
      const wrote = res === 1;
      status.commits++;
      status.deadLettered += deadLetters;
      // never move `committed` backwards: during recovery `applied` can still be below it
      if (compareIds(lastId, run.committed) > 0) run.committed = lastId;
      if (dueState && wrote) {
        run.stateId = lastId;
        run.sinceState -= since;
        run.stateAt = Date.now();
        // inputs before the saved state are no longer needed for recovery
        await this.writer.xtrim(inputStream(this.c.keys, run.shard), 'MINID', run.stateId).catch(() => {});
      }
    }
    if (expired !== null) throw new LeaseExpiredError(expired, diverged === null ? expired : [...expired, diverged.shard]);
    if (diverged !== null) throw diverged;
  }

  /**
   * Durable commits (`durableReplicas` > 0, `lockstep live --durable-replicas N`): a commit counts
   * as done, and the worker goes on, only once N replicas have every write made so far on this
   * connection (WAIT), so a failover to one of them loses no acknowledged input. While fewer
   * answer, it waits on, unhealthy, saying so. Without it, a failover can lose the last commits;
   * the next commit's checkpoint check finds that (DIVERGED) and recomputes them.
   */
  private async waitForReplicas(shards: string): Promise<void> {
    const n = this.c.opts.durableReplicas ?? 0;
    if (this.c.cluster) throw new FatalWorkerError('--durable-replicas works on a single node or under Sentinel, not on Redis Cluster');
    for (let round = 0; ; round++) {
      const got = Number(await this.writer.call('WAIT', n, 500));
      if (got >= n) return;
      markFailed(this.c.status, new Error(`commit on ${got} of ${n} replicas`));
      if (round % 10 === 0) this.c.log(`shard(s) ${shards}: the commit has reached ${got} of ${n} replica(s); waiting for them`);
      if (this.c.stopping() && round >= 10) return;
      // the shards stay this worker's while it waits
      await this.c.leases.renew();
    }
  }
}
