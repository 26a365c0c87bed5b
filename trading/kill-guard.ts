/**
 * `lockstep kill-guard --redis URL --ns NS --policy FILE`: the automatic kill switch, live. It
 * reads every shard's output stream `<ns>:out:{<ns>:<s>}` as portfolio/live.ts does (rows in each
 * worker's commit order; a shard's time from the input its worker last committed, which heartbeats
 * reach even on a quiet shard), runs the same pure detector as `lockstep kill-policy`
 * (kill-detector.ts), and acts on each trigger:
 * - `alert`: an alert in `<ns>:alerts` (live/alerts/raise.ts);
 * - `reduce-only-symbol` / `kill-symbol` / `kill-all`: the kill switch on (reduce-only or halt,
 *   for the symbol or everything; never weakening a halt in force), with the reason and the
 *   cause (rule, symbol, ts_recv, input entry, value), plus a critical alert.
 * It never switches anything off: that stays a human action (`lockstep kill-switch off`, dashboard).
 *
 * Restart-safe: a trigger's episode is recorded in `<ns>:kill:fired` (hash: episode → JSON) in the
 * same script call as the switch (kill-switch.ts `setKillSwitch` record). A restarted guard folds
 * the streams again from their start (pure: the same triggers) and acts only on episodes the hash
 * does not hold.
 *
 * Latency (logged per trigger, and returned): from the triggering event's arrival, the ms time of
 * its input stream entry ID (when Redis accepted it from the feed: the first instant the platform
 * had it, so the figure covers the worker's fold and commit, the guard's poll and the switch), to
 * the switch's script call having returned. The commit of its output row (the output entry ID's
 * time) is logged beside it: the guard's own share. Both IDs are Redis server times; the guard's
 * clock is the same machine's in the usual deployment (loopback Redis), else the figure includes
 * the clock offset. A stale feed has no triggering event; its latency is not measured.
 */
import { checkpointKey, inputStream, metaKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { setKillSwitch, type KillChange } from '../live/kill-switch.ts';
import { raiseAlert } from '../live/alerts/raise.ts';
import { parseRow, readOutputColumns } from '../live/read-output.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { isTransientRedisError } from '../live/redis-errors.ts';
import { isoNs } from '../replay/time-format.ts';
import { initDetector, pushRow, pushWatermark, type KillTrigger } from './kill-detector.ts';
import type { KillPolicy } from './kill-policy.ts';

export interface KillGuardOptions {
  url: string;
  ns: string;
  policy: KillPolicy;
  /** Who the kill switch entries name (default `lockstep-kill-guard`). */
  by?: string;
  log?: (s: string) => void;
  /** Wait between polls when nothing new arrived, ms (default 5). */
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

/** The hash of episodes acted on. */
export const firedKey = (k: { ns: string }) => `${k.ns}:kill:fired`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idMs = (id: string | undefined): number | null => (id && /^\d+-\d+$/.test(id) ? Number(id.slice(0, id.indexOf('-'))) : null);

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
  try {
    const pollMs = o.pollMs ?? 5;
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
    const done = new Set(await r.hkeys(firedKey(keys)));
    log(`kill-guard: following ${keys.shards} shards of ${o.ns}${done.size ? ` (${done.size} episodes already acted on)` : ''}`);
    const from = new Array<string>(keys.shards).fill('-');
    const pending: { t: KillTrigger; commit: string | null }[] = [];
    let commit: string | null = null;
    const sink = (t: KillTrigger) => pending.push({ t, commit });
    while (!stop) {
      let progress = false;
      try {
        for (let s = 0; s < keys.shards; s++) {
          const mark = await committedRecv(r, keys, s);
          for (;;) {
            const batch = (await r.xrange(outputStream(keys, s), from[s], '+', 'COUNT', 500)) as [string, string[]][];
            if (batch.length === 0) break;
            from[s] = `(${batch[batch.length - 1][0]}`;
            for (const [id, f] of batch) {
              commit = id;
              for (let i = 0; i + 1 < f.length; i += 2) {
                if (f[i] !== 'rows' && f[i] !== 'r') continue;
                for (const line of f[i + 1].split('\n')) {
                  const row = parseRow(line);
                  pushRow(det, s, { symbol: row.symbol, source: row.source, seq: row.seq, ts: row.tsRecv, values: row.values, input: row.input }, sink);
                }
              }
            }
            commit = null;
            progress = true;
            // act between pages: a trigger waits for no more than one page of reading
            await act(r, keys, o, pending, done, summary, log);
          }
          if (mark !== null) pushWatermark(det, s, mark, sink);
        }
        await act(r, keys, o, pending, done, summary, log);
      } catch (e) {
        if (!isTransientRedisError(e)) throw e;
        log(`kill-guard: redis: ${(e as Error).message}; retrying`);
        await sleep(200);
        continue;
      }
      if (progress) idleSince = Date.now();
      else if (idle()) break;
      else await sleep(pollMs);
    }
    return summary;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
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

/** Acts on the queued triggers in order, removing each once it is recorded. */
async function act(r: RedisClient, keys: KeyLayout, o: KillGuardOptions, queue: { t: KillTrigger; commit: string | null }[], done: Set<string>, summary: KillGuardSummary, log: (s: string) => void): Promise<void> {
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
    await raiseAlert(r, keys, { id: `kill-guard:${t.rule}:${t.symbol ?? '*'}`, severity: change ? 'critical' : 'warning', summary: `${change ? `kill switch ${change.mode === 'reduce-only' ? 'reduce-only' : 'halt'} for ${change.symbols ? change.symbols[0] : 'every symbol'}` : 'kill policy alert'}: ${t.reason}`, value: t.value ?? undefined, scope: t.episode });
    if (!change) await r.hset(record.key, record.field, record.value);
    done.add(t.episode);
    queue.shift();
    summary.fired++;
    const arrivalMs = idMs(t.input);
    const commitMs = idMs(commit ?? undefined);
    if (change && arrivalMs !== null) summary.latenciesMs.push(onMs - arrivalMs);
    const lat = arrivalMs !== null ? `; ${change ? 'on' : 'alerted'} ${onMs - arrivalMs} ms after the event's arrival${commitMs !== null ? ` (${onMs - commitMs} ms after its row's commit)` : ''}` : '';
    log(`kill-guard: ${t.action} ${t.symbol ?? '*'} ${t.rule}=${t.value} at ${isoNs(t.ts)}${t.input ? ` (entry ${t.input})` : ''}${lat}`);
    o.onFired?.({ trigger: t, arrivalMs, commitMs, onMs });
  }
}

/** The ts_recv of the last input shard `s`'s worker committed when it is a heartbeat (they reach every shard), or null. */
async function committedRecv(r: RedisClient, keys: KeyLayout, s: number): Promise<bigint | null> {
  const id = await r.hget(checkpointKey(keys, s), 'outId');
  if (!id) return null;
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
