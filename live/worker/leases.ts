/**
 * Shard leases (in the spirit of bullmq's LockManager): a lease is `SET <lease key> <token> PX
 * leaseMs NX`, renewed by this run while it works and released when it hands the shard back, so
 * a crashed worker's shards are free after leaseMs and a superseded one is fenced off (the commit
 * script checks the lease). Balancing workers also announce themselves in `<ns>:workers` to learn
 * their fair share.
 */
import { leaseKey, workersKey, type KeyLayout } from '../keys.ts';
import type { WorkerRedis } from './commands.ts';
import { FatalWorkerError, LeaseExpiredError } from './errors.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A balancing worker's share of the shards when `present` workers balance them. */
export const fairShare = (shards: number, present: number): number => Math.ceil(shards / present);

export class LeaseManager {
  /** Shards whose lease this run holds, in the order taken. */
  readonly held: number[] = [];
  private lastRenew = 0;

  constructor(
    private readonly writer: WorkerRedis,
    private readonly keys: KeyLayout,
    /** This run's lease token: a restarted or resumed process never passes for another. */
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly log: (msg: string) => void,
    private readonly stopping: () => boolean,
  ) {}

  /** Takes a shard's lease if it is free. */
  async tryTake(s: number): Promise<boolean> {
    const got = await this.writer.set(leaseKey(this.keys, s), this.token, 'PX', this.leaseMs, 'NX');
    if (got !== 'OK') return false;
    this.held.push(s);
    this.lastRenew = Date.now();
    return true;
  }

  /**
   * Takes a shard's lease, waiting for a previous holder's lease to expire (a crashed worker's
   * lease runs out after leaseMs; a live one keeps renewing it).
   */
  async take(s: number): Promise<void> {
    for (;;) {
      if (await this.tryTake(s)) return;
      if (this.stopping()) throw new Error('stopped while waiting for a lease');
      this.log(`shard ${s} is leased by ${await this.writer.get(leaseKey(this.keys, s))}; waiting for it to expire`);
      try {
        await this.renew(true);
      } catch (e) {
        // a lease taken before this one expired meanwhile (nothing was committed since): take it again
        if (!(e instanceof LeaseExpiredError)) throw e;
        for (const l of e.lost) await this.retake(l);
      }
      await sleep(Math.min(500, this.leaseMs / 4));
    }
  }

  /**
   * Renews the leases held (every leaseMs / 3 unless forced). A lease another worker holds now is
   * fatal (`FatalWorkerError`, naming the holder); one that merely expired (Redis frozen or down,
   * or this process stalled, past leaseMs) is forgotten and reported as a `LeaseExpiredError`, for
   * the worker to take it again and recover the shard.
   */
  async renew(force = false): Promise<void> {
    if (this.held.length === 0 || (!force && Date.now() - this.lastRenew < this.leaseMs / 3)) return;
    const held = [...this.held];
    const res = await Promise.all(held.map((s) => this.writer.lockstepRenew(leaseKey(this.keys, s), this.token, this.leaseMs)));
    this.lastRenew = Date.now();
    const lost = held.filter((_, i) => res[i] !== 1);
    if (lost.length === 0) return;
    await this.checkNotTaken(lost);
    for (const s of lost) this.forget(s);
    throw new LeaseExpiredError(lost);
  }

  /** The token holding shard `s`'s lease, or null when it is free. */
  holder(s: number): Promise<string | null> {
    return this.writer.get(leaseKey(this.keys, s));
  }

  /** Throws a FatalWorkerError naming the holder if another run holds one of these shards' leases. */
  async checkNotTaken(shards: readonly number[]): Promise<void> {
    for (const s of shards) {
      const h = await this.holder(s);
      if (h !== null && h !== this.token) throw new FatalWorkerError(`shard ${s}: lost its lease, and ${describeHolder(h)} holds it now; stopping so the new owner is alone`);
    }
  }

  /** Stops renewing shard `s` (its lease is no longer this run's). */
  forget(s: number): void {
    const i = this.held.indexOf(s);
    if (i >= 0) this.held.splice(i, 1);
  }

  /**
   * Takes shard `s`'s lease again after it expired: true when this run holds it now, false when
   * it is still free (try again); a FatalWorkerError names another holder.
   */
  async retake(s: number): Promise<boolean> {
    if (await this.tryTake(s)) return true;
    const h = await this.holder(s);
    if (h === this.token) {
      if (!this.held.includes(s)) this.held.push(s);
      return true;
    }
    if (h !== null) throw new FatalWorkerError(`shard ${s}: its lease expired and ${describeHolder(h)} holds it now; stopping so the new owner is alone`);
    return false;
  }

  /** Frees a shard's lease (the caller has committed its work). */
  async release(s: number): Promise<void> {
    await this.writer.lockstepRelease(leaseKey(this.keys, s), this.token);
    this.forget(s);
  }

  /** Frees every lease held, ignoring failures (at shutdown: a crashed worker's leases expire instead). */
  async releaseAll(): Promise<void> {
    await Promise.all(this.held.map((s) => this.writer.lockstepRelease(leaseKey(this.keys, s), this.token).catch(() => 0)));
  }

  /** Announces this balancing worker for leaseMs; returns how many are present (at least 1). */
  async announce(): Promise<number> {
    return Math.max(1, await this.writer.lockstepPresence(workersKey(this.keys), this.token, this.leaseMs));
  }

  /** Leaves the balancing workers: the others take a larger share at their next step. */
  async leave(): Promise<void> {
    await this.writer.zrem(workersKey(this.keys), this.token).catch(() => 0);
  }
}

/** A lease token (`<consumer>:<uuid>`, see LiveWorker) as a reader would name its worker. */
export function describeHolder(token: string): string {
  const i = token.lastIndexOf(':');
  return i > 0 ? `worker ${token.slice(0, i)} (lease ${token})` : `lease ${token}`;
}
