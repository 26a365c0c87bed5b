/**
 * Planning and sending commits: each shard's queued rows, latest values, dead letters, acks (and
 * state when due) go to Redis in one fenced, idempotent script call (commit-script.ts), retried
 * until Redis answers.
 *
 * Pipelined commits (single node, no --durable-replicas): up to `depth` commit calls are in
 * flight on the lean commit connection (commit-conn.ts), so the worker folds and sends the next
 * batch while the last one's reply is on its way, instead of waiting a round trip per batch (a
 * third of a loop turn at 10k events/s). Exactly-once holds as with one call at a time: each
 * shard's part names the checkpoint it expects (`expectedPrev` = the previous call's last input),
 * one connection executes the calls in the order they were sent, and the replies are applied in
 * that order. A call whose first attempt failed (a timeout or a dropped connection fails every
 * call in flight; an error reply such as NOSCRIPT or OOM fails only it), and every call sent
 * while an earlier one was unsettled behind it, has a reply that may not be the whole story (it
 * ran without its predecessor's writes): it is re-sent, after its predecessor settled, exactly
 * as a lone failed commit is retried today. A commit is idempotent (already covered: 0, nothing
 * written), so sending one twice writes it once.
 */
import type { FactorSet, FoldState } from '../../core/fold.ts';
import { encodeState } from '../../core/state-codec.ts';
import { checkpointKey, deadLetterStream, inputStream, latestKey, leaseKey, outputStream, type KeyLayout } from '../keys.ts';
import { compareIds } from '../stream-id.ts';
import type { WorkerRedis } from './commands.ts';
import { FatalWorkerError, LeaseExpiredError, ShardDivergedError } from './errors.ts';
import { markFailed, markOk, type WorkerHealth } from './health.ts';
import { describeHolder, type LeaseManager } from './leases.ts';
import type { OutageLog } from './outage-log.ts';
import type { ResolvedWorkerOptions } from './options.ts';
import type { ShardRun } from './shard-run.ts';
import type { CommitConnection } from './commit-conn.ts';
import { CommitFrameEncoder, shardArgv, type CommitFrame, type LatestPart, type ShardPart } from './commit-frame.ts';

/**
 * Commit calls in flight at once on the lean connection. Two already hide the reply's round trip
 * behind the next batch's fold; a third absorbs a reply that Redis delays while it waits for a CPU.
 */
export const COMMIT_DEPTH = 3;

/** One pipelined commit call (see the file's comment). */
interface Flight {
  done: Promise<void>;
  finished: boolean;
  /** Its first attempt's reply is final: it succeeded and every earlier call's first attempt did too. */
  trusted: boolean;
}

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
  part: ShardPart;
  /** The ioredis call's keys and arguments (not on the lean connection, which takes a frame). */
  keys?: string[];
  argv?: (string | Buffer)[];
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
  /** The lean commit connection (single node, no durable replicas): commits are pipelined on it. */
  lean?: CommitConnection | null;
}

export class Committer {
  /** Symbol → latest-value key (it embeds the shard, so it is worth keeping). */
  private readonly latestKeys = new Map<string, string>();
  /** The output columns joined by ',' (the commit script's column list). */
  private readonly columnList: string;
  /** Each shard's five keys (lease, output, checkpoint, input, dead letters). */
  private readonly shardKeys = new Map<number, string[]>();
  /** Encodes calls for the lean connection. */
  private readonly frames: CommitFrameEncoder | null;
  /** The newest pipelined call, until it settles. */
  private last: Flight | null = null;
  /** A first attempt failed: the next call waits for the pipeline to drain, so trust starts over. */
  private troubled = false;
  /** Calls asked for while the pipeline drains after a failure: sent, in order, once it has. */
  private held: (() => void)[] | null = null;

  constructor(
    private readonly writer: WorkerRedis,
    private readonly c: CommitterContext,
  ) {
    this.columnList = c.set.columns.join(',');
    this.frames = c.lean ? new CommitFrameEncoder(c.set.columns, c.fsv, { token: c.token, group: c.opts.group, ttlSeconds: c.opts.ttlSeconds }) : null;
  }

  /** How many commits the run loop may keep in flight (commitAll calls not yet settled). */
  get depth(): number {
    return this.c.lean ? COMMIT_DEPTH : 1;
  }

  /** Commits one shard's queued work (see commitAll). */
  commit(run: ShardRun, allowStateSkip = true): Promise<void> {
    return this.commitAll([run], allowStateSkip);
  }

  /**
   * Commits the queued rows, latest values, acks (and state when due) of the given shards; retries
   * until done. On a single node one script call commits them all (one round trip); on Cluster
   * each shard gets its own call, sent together. Everything a commit sends is taken from the runs
   * before the first await, so they can go on applying the next batch while this one is in flight.
   * On the lean connection up to `depth` calls may be in flight (pipelined, see above); otherwise
   * never two commits of a shard at once: the run loop settles one before starting the next.
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
    // encoded now, while the runs' row bytes are this batch's: the runs then start the next one
    let frame: CommitFrame | null = null;
    if (this.frames !== null) frame = this.frames.encode(plans.map((p) => p.part));
    else {
      for (const p of plans) {
        const { keys, argv } = shardArgv(p.part, this.c.set.columns, this.c.fsv);
        p.keys = keys;
        p.argv = argv;
      }
    }
    for (const p of plans) {
      p.run.rows.reset();
      p.run.rowCount = 0;
    }
    if (frame !== null) return this.sendPipelined(plans, frame);
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
    const { opts, keys: layout } = this.c;
    const lastId = run.applied;
    // a state save in flight (pipelined) is not asked for again before its reply
    const stateBehind = run.stateId !== lastId && !run.statePending;
    const dueState = stateBehind && (!allowStateSkip || (mayCheckpoint && (run.sinceState >= opts.checkpointEvery || Date.now() - run.stateAt >= opts.checkpointMs)));
    const nothing = run.rowCount === 0 && run.acks.length === 0 && run.latest.size === 0 && run.dlq.length === 0;
    if (nothing && !dueState && compareIds(lastId, run.sentId) <= 0) return null;
    let keys = this.shardKeys.get(run.shard);
    if (keys === undefined) this.shardKeys.set(run.shard, (keys = [leaseKey(layout, run.shard), outputStream(layout, run.shard), checkpointKey(layout, run.shard), inputStream(layout, run.shard), deadLetterStream(layout, run.shard)]));
    const latest: LatestPart[] = [];
    for (const [sym, r] of run.latest) {
      const prev = run.sent.get(sym);
      // a copy: r.text is the text cache that the symbol's next row rewrites (row-format.ts)
      const text = r.text.slice();
      latest.push({ key: this.latestKeyOf(sym), inId: r.id, kind: r.kind, seq: r.seq, tsEvent: r.tsEvent, tsRecv: r.tsRecv, text, prev: prev?.values, base: prev?.inId ?? '' });
      // bounded: forgetting only costs the next write of a symbol its columns in full
      if (run.sent.size >= 100_000 && !run.sent.has(sym)) run.sent.clear();
      run.sent.set(sym, { inId: r.id, values: text });
    }
    const part: ShardPart = {
      keys,
      lastId,
      // the last input of the previous call for this shard, replied to or still in flight
      expectedPrev: run.sentId,
      stateId: dueState ? lastId : '',
      deadLetters: run.dlq,
      rowCount: run.rowCount,
      rows: run.rows.buf.subarray(0, run.rows.len),
      latest,
      acks: run.acks,
      state: dueState ? stateBlob(run.fold) : '',
      at: String(Date.now()),
    };
    const plan: CommitPlan = { run, lastId, dueState, deadLetters: run.dlq.length, since: run.sinceState, part };
    if (compareIds(lastId, run.sentId) > 0) run.sentId = lastId;
    if (dueState) run.statePending = true;
    // the rows are reset once encoded (commitAll)
    run.dlq = [];
    run.latest = new Map();
    run.acks = [];
    return plan;
  }

  /** The script call's keys and arguments for the plans, and the shards they cover (for messages). */
  private callOf(plans: readonly CommitPlan[]): { keys: string[]; argv: (string | Buffer)[]; shards: string } {
    const { opts } = this.c;
    const keys: string[] = [];
    const argv: (string | Buffer)[] = [this.c.token, opts.group, String(opts.ttlSeconds), this.c.fsv, this.columnList, String(plans.length)];
    for (const p of plans) {
      for (const k of p.keys!) keys.push(k);
      for (const a of p.argv!) argv.push(a);
    }
    return { keys, argv, shards: plans.map((p) => p.run.shard).join(',') };
  }

  /**
   * Sends the plans on the lean connection at once (written before this returns, after any call
   * made before) and settles them after the previous call: its first reply when that is final,
   * else by re-sending it (see the file's comment).
   */
  private sendPipelined(plans: readonly CommitPlan[], frame: CommitFrame): Promise<void> {
    if (this.held === null && this.troubled && this.last !== null) {
      // after a failure, drain first: the calls in flight are re-sent one by one, and a call sent
      // behind them could only be trusted once they are settled
      const held: (() => void)[] = (this.held = []);
      this.last.done.catch(() => {}).then(() => {
        this.troubled = false;
        this.held = null;
        for (const send of held) send(); // in the order they were asked for
      });
    }
    if (this.held !== null) {
      const held = this.held;
      return new Promise((resolve, reject) => held.push(() => this.sendPipelined(plans, frame).then(resolve, reject)));
    }
    const shards = plans.map((p) => p.run.shard).join(',');
    const t0 = performance.now();
    const first = this.c.lean!.commit(frame);
    first.catch(() => {}); // awaited below
    const prev = this.last;
    const flight: Flight = { done: null as unknown as Promise<void>, finished: false, trusted: false };
    flight.done = (async () => {
      let results: (number | string)[] | null = null;
      try {
        results = await first;
      } catch {
        this.troubled = true; // re-sent below, after the calls before it
      }
      if (prev !== null) await prev.done.catch(() => {});
      flight.trusted = results !== null && (prev === null || prev.trusted);
      if (flight.trusted) {
        this.c.status.commitSeconds += (performance.now() - t0) / 1000;
        markOk(this.c.status);
        this.c.outage.ok();
      } else {
        this.troubled = true;
        results = await this.sendRetrying(plans, () => this.c.lean!.commit(frame), shards);
      }
      await this.applyResults(plans, results!);
    })();
    this.last = flight;
    const finish = () => {
      flight.finished = true;
      if (this.last === flight) this.last = null;
    };
    flight.done.then(finish, finish);
    return flight.done;
  }

  /** Sends the plans in one script call (ioredis), retrying until Redis answers, and applies the results. */
  private async send(plans: readonly CommitPlan[]): Promise<void> {
    const { keys, argv, shards } = this.callOf(plans);
    const results = await this.sendRetrying(
      plans,
      async () => {
        const r = await this.writer.lockstepCommit(keys.length, ...keys, ...argv);
        if ((this.c.opts.durableReplicas ?? 0) > 0) await this.waitForReplicas(shards);
        return r;
      },
      shards,
    );
    await this.applyResults(plans, results);
  }

  /** Makes `call` until Redis answers it (renewing the leases first, backing off between attempts). */
  private async sendRetrying(plans: readonly CommitPlan[], call: () => Promise<(number | string)[]>, shards: string): Promise<(number | string)[]> {
    const { status } = this.c;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.c.leases.renew();
        const t0 = performance.now();
        const results = await call();
        status.commitSeconds += (performance.now() - t0) / 1000;
        markOk(status);
        this.c.outage.ok();
        return results;
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
  }

  /** Applies a call's per-shard results to the runs (in call order); throws the shard faults. */
  private async applyResults(plans: readonly CommitPlan[], results: readonly (number | string)[]): Promise<void> {
    const { status } = this.c;
    // the state saves asked for are answered (or the shard is dropped for recovery below)
    for (const p of plans) if (p.dueState) p.run.statePending = false;
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
