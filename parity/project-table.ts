/**
 * Restricts a replay's factor table to some of its columns, as if the replay had run only the
 * factors behind them, so it can be diffed against a reference that computes just those.
 *
 * The diff matches columns by name and counts a column on one side only as skew, and the fold
 * emits a heartbeat row for a symbol only when one of its values changed: with the whole default
 * set that happens on most heartbeats (windows roll, news decays), with a few factors only when one
 * of theirs moved. So the projection keeps the key columns and the chosen ones, every
 * non-heartbeat row, and each heartbeat row whose chosen values differ from the symbol's previous
 * row (the fold's own test: NaN equals NaN, -0 differs from +0). The result is what a replay
 * with only those factors writes (cross-impl.test.ts checks that, table against table).
 */
import type { MarketEvent } from '../core/events.ts';
import { UsageError } from '../core/errors.ts';
import { FactorTableSink } from '../replay/factor-table-sink.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';

export interface ProjectionSummary {
  rowsIn: number;
  rowsOut: number;
  heartbeatRowsDropped: number;
}

/** Same test as the fold's: NaN equals NaN, -0 differs from +0, null only equals null. */
function differs(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a !== b;
  if (Number.isNaN(a) && Number.isNaN(b)) return false;
  return !Object.is(a, b);
}

export async function projectFactorTable(input: string, columns: readonly string[], out: string): Promise<ProjectionSummary> {
  const t = await readFactorTable(input);
  const missing = columns.filter((c) => !(c in t.values));
  if (missing.length) throw new UsageError(`${input}: no column ${missing.join(', ')} to project on (columns: ${Object.keys(t.values).join(', ')})`);
  const cols = columns.map((c) => t.values[c]);
  const sink = new FactorTableSink(out, columns, { metadata: { projectedFrom: input, columns } });
  const last = new Map<string, number>();
  const row: (number | null)[] = new Array(columns.length);
  let kept = 0;
  let dropped = 0;
  try {
    for (let i = 0; i < t.seq.length; i++) {
      const sym = t.symbol[i];
      const prev = last.get(sym);
      if (t.source[i] === 'heartbeat' && !cols.some((c) => differs(c[i], prev === undefined ? null : c[prev]))) {
        dropped++;
        continue;
      }
      last.set(sym, i);
      for (let c = 0; c < cols.length; c++) row[c] = cols[c][i];
      // the sink reads only the event's identity and times
      sink.row({ kind: t.source[i], seq: t.seq[i], tsEvent: t.tsEvent[i], tsRecv: t.tsRecv[i], symbol: sym } as MarketEvent, sym, row);
      kept++;
      if (sink.full) await sink.drain();
    }
  } catch (e) {
    await sink.abort();
    throw e;
  }
  await sink.close();
  return { rowsIn: t.seq.length, rowsOut: kept, heartbeatRowsDropped: dropped };
}
