/**
 * The worker's side of the live deployment log (live/live/models/live-log.ts): it loads the log at start,
 * polls it before each batch, appends new entries to the slot stages of the worker's factor set,
 * and applies the late-entry rule: an entry whose `at` a held shard has already passed is amended
 * for that shard to the first receive time after what it applied (written to the log, and in
 * `<ns>:models:seen`, before any further input is applied), with an alert.
 */
import type { DeploymentEntry } from '../../models/deployment.ts';
import { appendAmendment, applyAmendment, inputRecvAt, readLiveLog, readSeen, type LiveLogRecord } from '../models/live-log.ts';
import { loadVersion } from '../../models/load.ts';
import { listRegistry } from '../../models/registry.ts';
import type { SlotStage } from '../../models/stage.ts';
import { modelsSeenKey, type KeyLayout } from '../keys.ts';
import { raiseAlert } from '../alerts/raise.ts';
import { compareIds } from '../stream-id.ts';
import type { WorkerRedis } from './commands.ts';
import { FatalWorkerError } from './errors.ts';
import type { ShardRun } from './shard-run.ts';

export class ModelFollower {
  private lastId = '0-0';
  /** Entries in stream order with their IDs (what a shard's judgement walks). */
  private readonly entries: { id: string; entry: DeploymentEntry }[] = [];
  private readonly byId = new Map<string, DeploymentEntry>();
  private seen = new Map<number, string>();
  private readonly bySlot: Map<string, SlotStage>;
  /** Late entries amended by this worker (for /metrics and tests). */
  lateEntries = 0;

  constructor(
    private readonly writer: WorkerRedis,
    private readonly keys: KeyLayout,
    stages: readonly SlotStage[],
    private readonly registry: string,
    private readonly columns: readonly string[],
    private readonly runs: ReadonlyMap<number, ShardRun>,
    private readonly log: (m: string) => void,
  ) {
    this.bySlot = new Map(stages.map((s) => [s.slot, s]));
  }

  /** Reads the whole log and the per-shard marks (before any shard is recovered). */
  async init(): Promise<void> {
    const { records, lastId } = await readLiveLog(this.writer, this.keys.ns);
    this.take(records);
    this.lastId = lastId;
    this.seen = await readSeen(this.writer, this.keys.ns);
  }

  /** Adds records to the stages: entries appended, amendments folded into their entry. */
  private take(records: readonly LiveLogRecord[]): void {
    for (const r of records) {
      if ('amend' in r) {
        const e = this.byId.get(r.amend.of);
        if (e !== undefined) applyAmendment(e, r.amend);
        continue;
      }
      const e = { ...r.entry };
      this.byId.set(r.id, e);
      this.entries.push({ id: r.id, entry: e });
      const stage = this.bySlot.get(e.slot);
      if (stage === undefined) {
        this.log(`models log ${r.id}: no model ${e.slot} in the registry this worker loaded; entry ignored (restart the workers with a registry that has it)`);
        continue;
      }
      if (e.action === 'deploy' && e.version !== undefined && !stage.versions.has(e.version)) this.loadVersion(stage, e.version, r.id);
      stage.entries.push(e);
    }
  }

  /** Loads a version registered after the worker started (the registry folder is read again). */
  private loadVersion(stage: SlotStage, version: number, id: string): void {
    const v = listRegistry(this.registry).get(stage.slot)?.find((x) => x.spec.version === version);
    if (v === undefined) throw new FatalWorkerError(`models log ${id}: ${stage.slot}@${version} is not in the registry ${this.registry}; register it there and restart the worker`);
    try {
      stage.addVersion(loadVersion(v, this.columns));
    } catch (e) {
      throw new FatalWorkerError(`models log ${id}: ${(e as Error).message}`);
    }
    this.log(`models log ${id}: loaded ${stage.slot}@${version} from ${this.registry}`);
  }

  /** Reads new log records; judges them for every held shard against what it has applied. */
  async poll(): Promise<void> {
    const { records, lastId } = await readLiveLog(this.writer, this.keys.ns, this.lastId);
    if (records.length === 0 && lastId === this.lastId) return;
    this.take(records);
    this.lastId = lastId;
    for (const run of this.runs.values()) await this.judge(run.shard, run.appliedRecv);
  }

  /**
   * Before a shard's recovery re-applies its input: entries it has not judged are judged against
   * its committed outputs (the input entry named by the checkpoint's outId).
   */
  async beforeCatchUp(run: ShardRun): Promise<void> {
    await this.poll();
    await this.judge(run.shard, await inputRecvAt(this.writer, this.keys, run.shard, run.committed));
  }

  /** Amends the entries after the shard's mark that it has passed (`passed`: its receive time), then moves the mark. */
  private async judge(shard: number, passed: bigint): Promise<void> {
    const mark = this.seen.get(shard) ?? '0-0';
    if (mark === this.lastId) return;
    for (const { id, entry } of this.entries) {
      if (compareIds(id, mark) <= 0 || entry.at > passed || entry.late?.at[shard] !== undefined) continue;
      const at = passed + 1n;
      await appendAmendment(this.writer, this.keys.ns, { of: id, shard, shards: this.keys.shards, at });
      applyAmendment(entry, { shard, shards: this.keys.shards, at });
      this.lateEntries++;
      const summary = `models log entry ${id} (${entry.action} ${entry.slot}) reached shard ${shard} after it had passed its point ${entry.at}: it takes effect there at ${at} (recorded in the log; a replay with the exported log does the same). Give deploys a longer --lead`;
      this.log(summary);
      await raiseAlert(this.writer, this.keys, { id: `model-log-late:${shard}`, severity: 'warning', summary, shard }).catch(() => undefined);
    }
    await this.writer.hset(modelsSeenKey(this.keys), String(shard), this.lastId);
    this.seen.set(shard, this.lastId);
  }
}
