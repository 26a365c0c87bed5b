/**
 * `lockstep kill-policy`: the automatic kill switch replayed over a catalog date. The date's
 * events run through the factor fold exactly as `lockstep replay` runs them (same selection,
 * merge, factors, sessions), and each output row, and each heartbeat as stream time, goes to the
 * detector (kill-detector.ts): the triggers are when the live guard would have fired, at the
 * same events.
 */
import type { MarketEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { readCatalogSessions } from '../replay/catalog.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection, planSelection } from '../replay/run-replay.ts';
import { isoNs } from '../replay/time-format.ts';
import { initDetector, pushRow, pushWatermark, type KillTrigger } from './kill-detector.ts';
import type { KillPolicy } from './kill-policy.ts';

export interface KillReplayOptions {
  catalog: string;
  date: string;
  policy: KillPolicy;
  symbols?: readonly string[];
}

export interface KillReplayResult {
  events: number;
  rows: number;
  triggers: KillTrigger[];
}

/** Replays the date and returns every trigger, in the order the detector emitted them. */
export async function replayKillPolicy(o: KillReplayOptions): Promise<KillReplayResult> {
  const sessions = readCatalogSessions(o.catalog);
  const set = createFactorSet(DEFAULT_FACTORS, { sessions });
  const fold = initFold();
  const det = initDetector(o.policy, set.columns, 1);
  const triggers: KillTrigger[] = [];
  const sink = (t: KillTrigger) => triggers.push(t);
  // `lockstep replay`'s selection: the whole date, warmed up from its start
  const sel = { catalog: o.catalog, date: o.date, symbols: o.symbols, warmup: 'date-start' as const };
  const opened = await openSelection(sel, await planSelection(sel));
  let events = 0;
  let rows = 0;
  try {
    const merge = new EventMerge(opened.cursors);
    for (let ev: MarketEvent | null = merge.next(); ev !== null; ev = merge.next()) {
      events++;
      const e = ev;
      applyEvent(set, fold, e, (_ev, symbol, values) => {
        rows++;
        pushRow(det, 0, { symbol, source: e.kind, seq: e.seq, ts: e.tsRecv, values }, sink);
      });
      // a heartbeat is stream time even when it changed no symbol's values (no row)
      if (e.kind === 'heartbeat') pushWatermark(det, 0, e.tsRecv, sink);
    }
  } finally {
    await opened.close();
  }
  return { events, rows, triggers };
}

/** One line per trigger: time, symbol, rule, value, action, reason. */
export function formatTrigger(t: KillTrigger): string {
  const v = t.value === null ? 'null' : Number.isInteger(t.value) ? String(t.value) : t.value.toPrecision(6);
  return `${isoNs(t.ts)}  ${(t.symbol ?? '*').padEnd(8)}  ${t.rule.padEnd(18)}  ${v.padEnd(10)}  ${t.action.padEnd(18)}  ${t.reason}`;
}

/** A trigger as JSON (times as decimal strings). */
export function triggerJson(t: KillTrigger): Record<string, unknown> {
  return { time: isoNs(t.ts), ts_recv: t.ts.toString(), symbol: t.symbol, rule: t.rule, value: t.value, action: t.action, reason: t.reason, seq: t.seq === null ? null : t.seq.toString(), episode: t.episode };
}
