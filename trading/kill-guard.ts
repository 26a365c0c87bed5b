/**
 * `lockstep kill-guard --redis URL --ns NS --policy FILE`: the automatic kill switch, live. It
 * reads every shard's output stream `<ns>:out:{<ns>:<s>}` (rows in each worker's commit order; a
 * shard's time from the input its worker last committed, which heartbeats reach even on a quiet
 * shard), runs the same pure detector as `lockstep kill-policy` (kill-detector.ts), and acts on
 * each trigger:
 * - `alert`: an alert in `<ns>:alerts` (live/alerts/raise.ts);
 * - `reduce-only-symbol` / `kill-symbol` / `kill-all`: the kill switch on (reduce-only or halt,
 *   for the symbol or everything; never weakening a halt in force), with the reason and the
 *   cause (rule, symbol, ts_recv, input entry, value), plus a critical alert.
 * It never switches anything off: that stays a human action (`lockstep kill-switch off`, dashboard).
 *
 * Restart-safe: a trigger's episode is recorded in `{<ns>:kill}:fired` (hash: episode → JSON) in
 * the same script call as the switch (kill-switch.ts `setKillSwitch` record; the hash tag puts it in
 * the kill key's Cluster slot, so the one script is legal on a Cluster too). A restarted guard folds
 * the streams again from their start (pure: the same triggers) and acts only on episodes the hash
 * does not hold, nor the hash older guards wrote (`<ns>:kill:fired`, read once on start).
 *
 * Reading for latency: one XREAD BLOCK over all shards' streams on a connection of its own (the
 * worker's lean RESP reader, live/stream-reader.ts), so a new row wakes it at once and a blocked
 * read never delays a switch on the command connection; only the columns the policy reads are
 * decoded (decodeDetectorRow); a trigger is acted on as soon as the entry that raised it is read
 * (the switch and its episode record in one script call, awaited), and its alert is written behind
 * it without the reading waiting for it.
 *
 * Latency (logged per trigger, and returned): from the triggering event's arrival, the ms time of
 * its input stream entry ID (when Redis accepted it from the feed: the first instant the platform
 * had it, so the figure covers the worker's fold and commit, the guard's read and the switch), to
 * the switch's script call having returned. The commit of its output row (the output entry ID's
 * time) is logged beside it: the guard's own share. Both IDs are Redis server times; the guard's
 * clock is the same machine's in the usual deployment (loopback Redis), else the figure includes
 * the clock offset. A stale feed has no triggering event; its latency is not measured.
 */
import { LockstepError } from '../core/errors.ts';
import { checkpointKey, inputStream, metaKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { killRecordKey, setKillSwitch, type KillChange } from '../live/kill-switch.ts';
import { raiseAlert } from '../live/alerts/raise.ts';
import { readOutputColumns } from '../live/read-output.ts';
import { isClusterUrl, openRedis, type RedisClient } from '../live/redis-connect.ts';
import { StreamReader, type Entry } from '../live/stream-reader.ts';
import { isTransientRedisError } from '../live/redis-errors.ts';
import { isoNs } from '../replay/time-format.ts';
import { initDetector, pushRow, pushWatermark, type DetectorRow, type KillTrigger } from './kill-detector.ts';
import type { KillPolicy } from './kill-policy.ts';

export interface KillGuardOptions {
  url: string;
  ns: string;
  policy: KillPolicy;
  /** Who the kill switch entries name (default `lockstep-kill-guard`). */
  by?: string;
  log?: (s: string) => void;
  /** How long a read waits for new rows when the last found none, ms (default 20): a quiet deployment's shard times are re-read this often. */
  pollMs?: number;
  /** Stop after this long without new rows once some were read, ms (tests; default: until SIGTERM/SIGINT). */
  idleStopMs?: number;
  /** Called after each trigger was acted on (bench, tests). */
  onFired?: (f: FiredTrigger) => void;
  /** Stop when this resolves (bench). */
  stop?: Promise<unknown>;
}

/** A trigger acted on, with its timings (ms, wall clock; null where unknown). */
export interface FiredTrigger {
  trigger: KillTrigger;
  /** Arrival of the triggering event (its input entry ID's time). */
  arrivalMs: number | null;
  /** Commit of its output row (the output entry ID's time). */
  commitMs: number | null;
  /** When the switch (or alert) was in Redis. */
  onMs: number;
}

export interface KillGuardSummary {
  fired: number;
  /** Triggers of episodes already acted on (before a restart). */
  skipped: number;
  /** Arrival → switch on, ms, one per kill trigger with a known arrival. */
  latenciesMs: number[];
}

/** The hash of episodes acted on, in the kill switch's own Cluster slot. */
export const firedKey = (k: { ns: string }) => killRecordKey(k, 'fired');
/** Where guards before the Cluster-safe name recorded them: still read on start, never written. */
export const legacyFiredKey = (k: { ns: string }) => `${k.ns}:kill:fired`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idMs = (id: string | undefined): number | null => (id && /^\d+-\d+$/.test(id) ? Number(id.slice(0, id.indexOf('-'))) : null);

/** Entries per XREAD: a page of rows decoded before the triggers in it are acted on. */
const READ_COUNT = 200;

/**
 * Reads the shards' output streams from where it left off: one blocking XREAD over all of them
 * on a connection of its own (live/stream-reader.ts: no client-library decoding, and a blocked
 * read holds no switch behind it); on Redis Cluster, whose shards sit in different slots, one
 * XREAD per shard through ioredis, without blocking.
 */
interface OutputReader {
  /** Entries of each shard that has any since the last read ([] when none); `blockMs` null: do not wait. */
  read(blockMs: number | null): Promise<[shard: number, entries: Entry[]][]>;
  close(): void;
}

function openOutputReader(o: KillGuardOptions, r: RedisClient, keys: KeyLayout): OutputReader {
  const streams = Array.from({ length: keys.shards }, (_, s) => outputStream(keys, s));
  const shardOf = new Map(streams.map((n, s) => [n, s]));
  const from = new Array<string>(keys.shards).fill('0-0');
  const advance = (s: number, entries: Entry[]) => {
    if (entries.length > 0) from[s] = entries[entries.length - 1][0];
  };
  if (isClusterUrl(o.url)) {
    return {
      async read() {
        const out: [number, Entry[]][] = [];
        const replies = await Promise.all(streams.map((n, s) => r.xread('COUNT', READ_COUNT, 'STREAMS', n, from[s]) as Promise<[string, Entry[]][] | null>));
        replies.forEach((rep, s) => {
          const entries = rep?.[0]?.[1] ?? [];
          advance(s, entries);
          if (entries.length > 0) out.push([s, entries]);
        });
        return out;
      },
      close() {},
    };
  }
  const reader = new StreamReader(o.url, { name: 'lockstep-kill-guard-read', commandTimeoutMs: 10_000 });
  return {
    async read(blockMs) {
      const rep = await reader.read(READ_COUNT, blockMs, streams, from);
      const out: [number, Entry[]][] = [];
      for (const [name, entries] of rep ?? []) {
        const s = shardOf.get(name)!;
        advance(s, entries);
        out.push([s, entries]);
      }
      return out;
    },
    close: () => reader.close(),
  };
}

/**
 * Decodes only what the detector reads of an output row (worker/row-format.ts encodeRow:
 * `symbol|source|seq|ts_event|ts_recv|input|v1,v2,...`): the values of the `need` columns go into
 * `values` (the others stay null), the rest of the row is not parsed. Same results as parseRow
 * (read-output.ts) for the columns read.
 */
export function decodeDetectorRow(line: string, need: Uint8Array, lastNeed: number, values: (number | null)[]): DetectorRow {
  const p1 = line.indexOf('|');
  const p2 = line.indexOf('|', p1 + 1);
  const p3 = line.indexOf('|', p2 + 1);
  const p4 = line.indexOf('|', p3 + 1);
  const p5 = line.indexOf('|', p4 + 1);
  const p6 = line.indexOf('|', p5 + 1);
  if (p6 < 0) throw new LockstepError(`kill-guard: malformed output row ${JSON.stringify(line.slice(0, 200))}`);
  let at = p6 + 1;
  for (let c = 0; c <= lastNeed; c++) {
    let end = line.indexOf(',', at);
    if (end < 0) end = line.length;
    if (need[c] === 1) values[c] = end === at ? null : Number(line.slice(at, end));
    at = end + 1;
  }
  return { symbol: line.slice(0, p1), source: line.slice(p1 + 1, p2), seq: BigInt(line.slice(p2 + 1, p3)), ts: BigInt(line.slice(p4 + 1, p5)), values, input: line.slice(p5 + 1, p6) };
}

/** Runs until stopped; resolves with what it did. */
export async function runKillGuard(o: KillGuardOptions): Promise<KillGuardSummary> {
  const log = o.log ?? (() => {});
  const r = await openRedis(o.url, { name: 'lockstep-kill-guard', commandTimeoutMs: 10_000 });
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  void o.stop?.then(onSignal);
  const summary: KillGuardSummary = { fired: 0, skipped: 0, latenciesMs: [] };
  let reader: OutputReader | null = null;
  const acts = new Actions(r, o, summary, log);
  try {
    const blockMs = Math.max(1, o.pollMs ?? 20);
    let keys: KeyLayout | null = null;
    let columns: string[] = [];
    let idleSince: number | null = null;
    const idle = () => o.idleStopMs !== undefined && idleSince !== null && Date.now() - idleSince >= o.idleStopMs;
    while (!stop) {
      const shards = Number((await r.hget(metaKey({ ns: o.ns, shards: 0 }), 'shards')) ?? 0);
      keys = { ns: o.ns, shards };
      columns = shards > 0 ? await readOutputColumns(r, keys) : [];
      if (shards > 0 && columns.length > 0) break;
      if (idle()) return summary;
      await sleep(100);
    }
    if (stop || keys === null) return summary;
    const det = initDetector(o.policy, columns, keys.shards);
    acts.keys = keys;
    for (const e of await r.hkeys(firedKey(keys))) acts.done.add(e);
    for (const e of await r.hkeys(legacyFiredKey(keys))) acts.done.add(e);
    log(`kill-guard: following ${keys.shards} shards of ${o.ns}${acts.done.size ? ` (${acts.done.size} episodes already acted on)` : ''}`);
    // only the columns the policy reads are decoded
    const need = new Uint8Array(columns.length);
    for (const c of [...det.flagCols, det.spreadCol]) if (c >= 0) need[c] = 1;
    const lastNeed = need.lastIndexOf(1);
    const values = new Array<number | null>(columns.length).fill(null);
    reader = openOutputReader(o, r, keys);
    let commit: string | null = null;
    const sink = (t: KillTrigger) => acts.queue.push({ t, commit });
    let wait = false;
    while (!stop) {
      let progress = false;
      let held: unknown = null;
      try {
        // a shard's time (its last committed heartbeat) is read before its rows: every row
        // committed before it is then read by the drain below, so no stale feed fires early
        const marks = o.policy.staleFeed ? await committedRecvs(r, keys) : null;
        for (;;) {
          // waits (for a row, or the block time) only when the last round found nothing; the
          // alerts of the last triggers are written meanwhile on the other connection
          const got = await reader.read(wait && !progress ? blockMs : null);
          if (got.length === 0) break;
          progress = true;
          for (const [s, entries] of got) {
            for (const [id, f] of entries) {
              if (f === null) continue;
              commit = id;
              for (let i = 0; i + 1 < f.length; i += 2) {
                if (f[i] === 'r') pushRow(det, s, decodeDetectorRow(f[i + 1], need, lastNeed, values), sink);
                else if (f[i] === 'rows') for (const line of f[i + 1].split('\n')) pushRow(det, s, decodeDetectorRow(line, need, lastNeed, values), sink);
              }
              commit = null;
              // a trigger is acted on at once, before the next entry is decoded; if Redis fails
              // meanwhile the page is still read to its end (its rows are not read again), and
              // the queued triggers are acted on once it answers
              if (acts.queue.length > 0 && held === null) {
                try {
                  await acts.run();
                } catch (e) {
                  if (!isTransientRedisError(e)) throw e;
                  held = e;
                }
              }
            }
          }
          if (held !== null) throw held;
          if (stop) break;
        }
        if (marks) for (let s = 0; s < keys.shards; s++) if (marks[s] !== null) pushWatermark(det, s, marks[s]!, sink);
        await acts.run();
        await acts.settle();
      } catch (e) {
        if (!isTransientRedisError(e)) throw e;
        log(`kill-guard: redis: ${(e as Error).message}; retrying`);
        await sleep(200);
        continue;
      }
      wait = !progress;
      if (progress) idleSince = Date.now();
      else if (idle()) break;
    }
    return summary;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await acts.settle().catch(() => {});
    reader?.close();
    r.disconnect();
  }
}

/** What a trigger's action does to the kill switch (null: an alert only). */
function changeOf(t: KillTrigger, by: string): KillChange | null {
  if (t.action === 'alert') return null;
  const cause = { rule: t.rule, symbol: t.symbol, tsRecv: t.ts.toString(), ...(t.input ? { streamId: t.input } : {}), value: t.value };
  const reason = `automatic (${t.action}): ${t.reason}`;
  // a per-symbol action on a trigger without a symbol (a book-wide limit) covers everything
  const symbols = t.action === 'kill-all' || t.symbol === null ? undefined : [t.symbol];
  return { on: true, symbols, reason, by, mode: t.action === 'reduce-only-symbol' ? 'reduce-only' : 'halt', cause, escalateOnly: true };
}

/**
 * Acts on the queued triggers in order, removing each once it is recorded. A kill trigger's
 * switch goes first, with its episode record in the same script call (awaited: that is the
 * action); its alert is written after it without being waited for (settle() collects them), so
 * the next rows are read meanwhile. An alert-only trigger's record follows its alert.
 */
class Actions {
  keys: KeyLayout = { ns: '', shards: 0 };
  readonly done = new Set<string>();
  readonly queue: { t: KillTrigger; commit: string | null }[] = [];
  private inflight: Promise<unknown>[] = [];

  constructor(
    private readonly r: RedisClient,
    private readonly o: KillGuardOptions,
    private readonly summary: KillGuardSummary,
    private readonly log: (s: string) => void,
  ) {}

  async run(): Promise<void> {
    const { r, o, keys, summary, queue, done } = this;
    while (queue.length > 0) {
      const { t, commit } = queue[0];
      if (done.has(t.episode)) {
        summary.skipped++;
        queue.shift();
        continue;
      }
      const change = changeOf(t, o.by ?? 'lockstep-kill-guard');
      const record = { key: firedKey(keys), field: t.episode, value: JSON.stringify({ action: t.action, rule: t.rule, symbol: t.symbol, ts: t.ts.toString(), value: t.value, input: t.input ?? null }) };
      if (change) await setKillSwitch(r, keys, change, record);
      const onMs = Date.now();
      // the alert after the switch: the switch is what stops orders, it goes first
      const alert = raiseAlert(r, keys, { id: `kill-guard:${t.rule}:${t.symbol ?? '*'}`, severity: change ? 'critical' : 'warning', summary: `${change ? `kill switch ${change.mode === 'reduce-only' ? 'reduce-only' : 'halt'} for ${change.symbols ? change.symbols[0] : 'every symbol'}` : 'kill policy alert'}: ${t.reason}`, value: t.value ?? undefined, scope: t.episode });
      if (change) this.inflight.push(alert);
      else {
        await alert;
        await r.hset(record.key, record.field, record.value);
      }
      done.add(t.episode);
      queue.shift();
      summary.fired++;
      const arrivalMs = idMs(t.input);
      const commitMs = idMs(commit ?? undefined);
      if (change && arrivalMs !== null) summary.latenciesMs.push(onMs - arrivalMs);
      const lat = arrivalMs !== null ? `; ${change ? 'on' : 'alerted'} ${onMs - arrivalMs} ms after the event's arrival${commitMs !== null ? ` (${onMs - commitMs} ms after its row's commit)` : ''}` : '';
      this.log(`kill-guard: ${t.action} ${t.symbol ?? '*'} ${t.rule}=${t.value} at ${isoNs(t.ts)}${t.input ? ` (entry ${t.input})` : ''}${lat}`);
      o.onFired?.({ trigger: t, arrivalMs, commitMs, onMs });
    }
  }

  /** Waits for the alerts written without waiting; a failure other than Redis being unreachable is thrown. */
  async settle(): Promise<void> {
    if (this.inflight.length === 0) return;
    const all = this.inflight;
    this.inflight = [];
    for (const x of await Promise.allSettled(all)) {
      if (x.status === 'fulfilled') continue;
      // the switch is on and recorded: a lost alert is reported, not retried
      if (!isTransientRedisError(x.reason)) throw x.reason;
      this.log(`kill-guard: an alert was not written (redis: ${(x.reason as Error).message})`);
    }
  }
}

/** Per shard, the ts_recv of the last input its worker committed when it is a heartbeat (they reach every shard), or null: two pipelined round trips for all shards. */
async function committedRecvs(r: RedisClient, keys: KeyLayout): Promise<(bigint | null)[]> {
  const ids = await Promise.all(Array.from({ length: keys.shards }, (_, s) => r.hget(checkpointKey(keys, s), 'outId')));
  return Promise.all(ids.map((id, s) => (id ? committedRecv(r, keys, s, id) : null)));
}

/** The ts_recv of input entry `id` of shard `s` when it is a heartbeat, or null. */
async function committedRecv(r: RedisClient, keys: KeyLayout, s: number, id: string): Promise<bigint | null> {
  const e = (await r.xrange(inputStream(keys, s), id, id)) as [string, string[]][];
  if (e.length === 0) return null;
  const f = e[0][1];
  let tr: bigint | null = null;
  let heartbeat = false;
  for (let i = 0; i + 1 < f.length; i += 2) {
    if (f[i] === 'tr' && /^-?\d+$/.test(f[i + 1])) tr = BigInt(f[i + 1]);
    else if (f[i] === 'k') heartbeat = f[i + 1] === 'heartbeat';
  }
  return heartbeat ? tr : null;
}
