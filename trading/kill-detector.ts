/**
 * The automatic kill switch's detector: a pure fold over the factor fold's output rows (K input
 * streams: live, one per shard; replay, one), stream watermarks (heartbeats) and limit breach
 * records, that emits a trigger each time a rule of the policy (kill-policy.ts) starts firing.
 *
 * Once per episode: a rule fires for a symbol when its condition turns true and stays silent
 * while it holds; it is re-armed when the condition is false again (a flag back to 0, a spread
 * back under k × median, a market event of a stale symbol, a breach record marked cleared).
 * A trigger's `episode` (rule, symbol, the triggering event's ts_recv and seq) names it, so a
 * restarted live guard recognises the triggers it already acted on.
 *
 * Time is the rows' ts_recv (the merge clock of both paths). A stale feed is seen when a
 * heartbeat of the symbol's stream, or the symbol's own next market row, passes its last market
 * event + N, and its trigger carries that deadline as its time (not the time of whichever
 * heartbeat passed it: live reads a shard's committed heartbeats at poll times, replay sees every
 * one), so replay and live report it identically. Every rule reads only its symbol's own rows and its own
 * stream's time, so the triggers do not depend on how the streams interleave; only the order in
 * which triggers of different streams come out does.
 *
 * No I/O, clock, randomness or promises.
 */
import type { KillAction, KillPolicy } from './kill-policy.ts';
import { KillPolicyError } from './kill-policy.ts';

/** One output row of the factor fold, as the detector reads it. */
export interface DetectorRow {
  symbol: string;
  /** The event kind that produced the row: `heartbeat` rows are time; only trade, quote and book rows are market data (a stale feed). */
  source: string;
  seq: bigint;
  /** ts_recv, epoch ns. */
  ts: bigint;
  /** In the column order given to `initDetector`. */
  values: readonly (number | null)[];
  /** The input stream entry ID that carried the event (live), for the record. */
  input?: string;
}

/** A limit breach (trading/limits.ts): `cleared` ends its episode. */
export interface LimitBreach {
  limit: string;
  /** What the limit applies to (`symbol`, `strategy:x`, `account:y`, `book`). */
  scope: string;
  value: number;
  symbol?: string;
  ts: bigint;
  cleared?: boolean;
}

/** What the detector asks for. */
export interface KillTrigger {
  action: KillAction;
  /** A flag column, `spread_blowout`, `stale_feed` or `limit:<name>`. */
  rule: string;
  symbol: string | null;
  /** The triggering event's ts_recv (a stale feed: its deadline, last event + N). */
  ts: bigint;
  seq: bigint | null;
  /** The flag's value, the spread, seconds without an event, the breach's value. */
  value: number | null;
  /** One line, with the numbers. */
  reason: string;
  /** Names the episode (stable across runs). */
  episode: string;
  /** Input stream entry of the event (live rows). */
  input?: string;
}

export type TriggerSink = (t: KillTrigger) => void;

interface SymbolState {
  stream: number;
  /** ts of the last market (non-heartbeat) row; -1n: none yet. */
  last: bigint;
  queued: boolean;
  staleOpen: boolean;
  flagOpen: boolean[];
  ring: Float64Array | null;
  ringN: number;
  ringPos: number;
  spreadOpen: boolean;
}

/** The detector's state: plain data. */
export interface DetectorState {
  policy: KillPolicy;
  flagCols: number[];
  spreadCol: number;
  marks: (bigint | null)[];
  /** Per stream: a binary heap of [deadline, symbol] for the stale-feed rule. */
  heaps: [bigint, string][][];
  symbols: Map<string, SymbolState>;
  breachOpen: Set<string>;
  scratch: Float64Array;
  triggers: number;
}

/** A fresh detector for rows with `columns`; every column the policy reads must be there. */
export function initDetector(policy: KillPolicy, columns: readonly string[], streams = 1): DetectorState {
  const col = (c: string, rule: string) => {
    const i = columns.indexOf(c);
    if (i < 0) throw new KillPolicyError(`policy rule ${rule} reads column ${c}, which the factor set does not compute (it has ${columns.join(', ')})`);
    return i;
  };
  return {
    policy,
    flagCols: policy.flags.map((f) => col(f.column, `flags.${f.column}`)),
    spreadCol: policy.spreadBlowout ? col('spread', 'spread_blowout') : -1,
    marks: new Array<bigint | null>(streams).fill(null),
    heaps: Array.from({ length: streams }, () => []),
    symbols: new Map(),
    breachOpen: new Set(),
    scratch: new Float64Array(policy.spreadBlowout?.window ?? 0),
    triggers: 0,
  };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6));

function emit(st: DetectorState, sink: TriggerSink, t: Omit<KillTrigger, 'episode'>): void {
  st.triggers++;
  sink({ ...t, episode: `${t.rule}|${t.symbol ?? '*'}|${t.ts}|${t.seq ?? ''}` });
}

/**
 * A heartbeat of stream `k` at `t` (replay: the clock event; live: a heartbeat row, or the
 * heartbeat a shard's worker committed last): stale feeds whose deadline it passed fire.
 * Only heartbeats count as stream time here, not other symbols' rows: a shard's rows differ
 * between live (K streams) and replay (one), its heartbeats do not (the feed sends every
 * heartbeat to every shard).
 */
export function pushWatermark(st: DetectorState, k: number, t: bigint, sink: TriggerSink): void {
  const m = st.marks[k];
  if (m !== null && t <= m) return;
  st.marks[k] = t;
  if (!st.policy.staleFeed) return;
  const heap = st.heaps[k];
  while (heap.length > 0 && heap[0][0] <= t) {
    const [deadline, sym] = heapPop(heap);
    const s = st.symbols.get(sym)!;
    s.queued = false;
    if (s.staleOpen) continue;
    const due = s.last + st.policy.staleFeed.afterNs;
    if (due > deadline) {
      // an event came since it was queued: wait for the new deadline
      heapPush(heap, [due, sym]);
      s.queued = true;
      continue;
    }
    fireStale(st, sink, sym, s, deadline);
  }
}

function fireStale(st: DetectorState, sink: TriggerSink, sym: string, s: SymbolState, deadline: bigint): void {
  const stale = st.policy.staleFeed!;
  s.staleOpen = true;
  const secs = Number(stale.afterNs) / 1e9;
  emit(st, sink, { action: stale.action, rule: 'stale_feed', symbol: sym, ts: deadline, seq: null, value: secs, reason: `no market event for ${sym} for ${fmt(secs)} s of event time (last at ts_recv ${s.last})` });
}

/**
 * One output row of stream `k`: a heartbeat row is stream time first; a market row whose own
 * symbol was silent past the deadline fires its stale feed before it (no heartbeat may have
 * passed the deadline in between, live or replay alike); then the flag and spread rules.
 */
export function pushRow(st: DetectorState, k: number, row: DetectorRow, sink: TriggerSink): void {
  if (row.source === 'heartbeat') pushWatermark(st, k, row.ts, sink);
  let s = st.symbols.get(row.symbol);
  if (s === undefined) {
    s = { stream: k, last: -1n, queued: false, staleOpen: false, flagOpen: st.flagCols.map(() => false), ring: null, ringN: 0, ringPos: 0, spreadOpen: false };
    st.symbols.set(row.symbol, s);
  }
  const p = st.policy;
  for (let i = 0; i < st.flagCols.length; i++) {
    const v = row.values[st.flagCols[i]];
    if (v === null || v === undefined) continue;
    if (v === 0) s.flagOpen[i] = false;
    else if (!s.flagOpen[i]) {
      s.flagOpen[i] = true;
      const f = p.flags[i];
      emit(st, sink, { action: f.action, rule: f.column, symbol: row.symbol, ts: row.ts, seq: row.seq, value: v, reason: `${f.column} = ${fmt(v)} on ${row.symbol} (${row.source} seq ${row.seq})`, input: row.input });
    }
  }
  // a stale feed is about market data: fundamentals, news and corporate actions (earlier dates'
  // among them, as point-in-time state) say nothing of it
  if (row.source !== 'trade' && row.source !== 'quote' && row.source !== 'book') return;
  if (p.staleFeed) {
    if (s.last >= 0n && !s.staleOpen && row.ts >= s.last + p.staleFeed.afterNs) fireStale(st, sink, row.symbol, s, s.last + p.staleFeed.afterNs);
    s.last = row.ts;
    s.staleOpen = false;
    if (!s.queued) {
      heapPush(st.heaps[k], [row.ts + p.staleFeed.afterNs, row.symbol]);
      s.queued = true;
    }
  }
  const sb = p.spreadBlowout;
  if (sb && row.source === 'quote') {
    const spread = row.values[st.spreadCol];
    // crossed (negative) or locked quotes have their own flag; they say nothing of the spread's scale
    if (spread === null || spread === undefined || !(spread > 0) || !Number.isFinite(spread)) return;
    s.ring ??= new Float64Array(sb.window);
    if (s.ringN === sb.window) {
      const med = median(s.ring, st.scratch);
      const blown = spread > sb.k * med;
      if (!blown) s.spreadOpen = false;
      else if (!s.spreadOpen) {
        s.spreadOpen = true;
        emit(st, sink, { action: sb.action, rule: 'spread_blowout', symbol: row.symbol, ts: row.ts, seq: row.seq, value: spread, reason: `spread ${fmt(spread)} on ${row.symbol} > ${fmt(sb.k)} × median ${fmt(med)} of its last ${sb.window} quotes`, input: row.input });
      }
    }
    s.ring[s.ringPos] = spread;
    s.ringPos = (s.ringPos + 1) % sb.window;
    if (s.ringN < sb.window) s.ringN++;
  }
}

/** A limit breach record (or its clearing). */
export function pushBreach(st: DetectorState, b: LimitBreach, sink: TriggerSink): void {
  const key = `${b.limit}|${b.scope}|${b.symbol ?? ''}`;
  if (b.cleared) {
    st.breachOpen.delete(key);
    return;
  }
  if (st.breachOpen.has(key)) return;
  const action = st.policy.limits.get(b.limit) ?? st.policy.limits.get('*');
  if (action === undefined) return;
  st.breachOpen.add(key);
  emit(st, sink, { action, rule: `limit:${b.limit}`, symbol: b.symbol ?? null, ts: b.ts, seq: null, value: b.value, reason: `limit ${b.limit} breached (${b.scope}${b.symbol ? ` ${b.symbol}` : ''}): ${fmt(b.value)}` });
}

function median(ring: Float64Array, scratch: Float64Array): number {
  scratch.set(ring);
  scratch.sort();
  const n = scratch.length;
  return n % 2 === 1 ? scratch[(n - 1) >> 1] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}

const before = (a: [bigint, string], b: [bigint, string]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

function heapPush(h: [bigint, string][], x: [bigint, string]): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[i], h[p])) break;
    [h[i], h[p]] = [h[p], h[i]];
    i = p;
  }
}

function heapPop(h: [bigint, string][]): [bigint, string] {
  const top = h[0];
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
  return top;
}
