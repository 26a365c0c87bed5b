/**
 * `lockstep weights --input OUT.parquet`: the weights fold over a replay's output table. The table
 * is one stream in the fold's clock order (ts_recv: the replay's merge order), so its watermark is
 * simply each row's own time. Requested rebalances (`--at`) and the control events a live driver
 * logged (`--inputs`: requests and kill-switch changes at the times it gave them, control.ts) are
 * merged into that stream by time, each before the rows at or after its time, so the fold meets them
 * where the live one did. Writes one Parquet row per (rebalance, symbol).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { chunkValues, encodeParquet, openParquet, type ColumnSpec } from '../replay/parquet-io.ts';
import { openFactorTableStream } from '../replay/read-factor-table.ts';
import { inputColumns, type WeightsConfig } from './config.ts';
import { initWeightsFold, pushControl, pushRows, type ControlEvent, type WeightsRecord, type WeightsRow } from './fold.ts';

/** The weights file's columns: one row per symbol of each rebalance. */
export const WEIGHTS_SPECS: ColumnSpec[] = [
  { name: 'ts', type: 'timestamp' },
  { name: 'trigger', type: 'utf8' },
  { name: 'symbol', type: 'utf8' },
  { name: 'weight', type: 'float64' },
  { name: 'signal', type: 'float64', nullable: true },
  { name: 'excluded', type: 'utf8', nullable: true },
];

export interface WeightsRunSummary {
  rows: number;
  rebalances: number;
  symbols: number;
  first: WeightsRecord | null;
  last: WeightsRecord | null;
  out: string;
  sha256: string;
}

/** Runs the fold over `input` (a factor table) and writes `out`; `at`: requested rebalance times (ns); `control`: a live driver's logged events. */
export async function weightsFromTable(input: string, cfg: WeightsConfig, out: string, at: readonly bigint[] = [], control: readonly ControlEvent[] = []): Promise<WeightsRunSummary> {
  const records = await foldTable(input, cfg, at, control);
  const bytes = encodeWeights(records, cfg);
  writeFileSync(out, bytes);
  const symbols = new Set(records.flatMap((r) => r.symbols)).size;
  let rows = 0;
  for (const r of records) rows += r.symbols.length;
  return { rows, rebalances: records.length, symbols, first: records[0] ?? null, last: records.at(-1) ?? null, out, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The fold's records over a factor table (exported for the live-vs-replay test). */
export async function foldTable(input: string, cfg: WeightsConfig, at: readonly bigint[] = [], control: readonly ControlEvent[] = []): Promise<WeightsRecord[]> {
  const t = await openFactorTableStream(input);
  const need = inputColumns(cfg);
  const pos = need.map((c) => {
    const i = t.factorColumns.indexOf(c);
    if (i < 0) throw new InputError({ file: input, field: c, reason: `no such column in the table (the weights config names it; the table has ${t.factorColumns.slice(0, 12).join(', ')}${t.factorColumns.length > 12 ? ', ...' : ''})` });
    return i;
  });
  if (cfg.time === 'ts_event' && !t.columns.includes('ts_event')) throw new InputError({ file: input, field: 'ts_event', reason: 'missing (the weights config sets "time": "ts_event")' });
  const st = initWeightsFold(cfg, 1);
  const records: WeightsRecord[] = [];
  const sink = (r: WeightsRecord) => records.push(r);
  // by time, stable: the log's order at one time (a later change of one kill entry wins)
  const events: ControlEvent[] = [...control, ...at.map((ts) => ({ kind: 'request' as const, ts }))].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  let next = 0;
  for await (const c of t.chunks()) {
    const times = cfg.time === 'ts_recv' ? c.tsRecv : c.tsEvent;
    let rows: WeightsRow[] = [];
    for (let i = 0; i < c.n; i++) {
      const ts = times[i];
      if (next < events.length && events[next].ts <= ts) {
        // an event at T goes before the rows at T and after: a request's book holds the rows before T
        pushRows(st, 0, rows, sink);
        rows = [];
        while (next < events.length && events[next].ts <= ts) pushControl(st, 0, events[next++], sink);
      }
      const values = new Array<number | null>(pos.length);
      for (let k = 0; k < pos.length; k++) {
        const col = c.columns[pos[k]];
        const j = col.bitOffset + i;
        values[k] = col.bits === null || (col.bits[j >> 3] >> (j & 7)) & 1 ? col.values[i] : null;
      }
      rows.push({ symbol: c.symbol[i], ts, values });
    }
    pushRows(st, 0, rows, sink);
  }
  // events after the last row are never reached by the watermark (no end-of-input flush; see fold.ts)
  return records;
}

/** The records as Parquet bytes (deterministic: same records, same bytes). */
export function encodeWeights(records: readonly WeightsRecord[], cfg: WeightsConfig): Uint8Array {
  let n = 0;
  for (const r of records) n += r.symbols.length;
  const ts = new BigInt64Array(n);
  const trigger = new Array<string>(n);
  const symbol = new Array<string>(n);
  const weight = new Float64Array(n);
  const signal = new Array<number | null>(n);
  const excluded = new Array<string | null>(n);
  let k = 0;
  for (const r of records)
    for (let i = 0; i < r.symbols.length; i++, k++) {
      ts[k] = r.t;
      trigger[k] = r.trigger;
      symbol[k] = r.symbols[i];
      weight[k] = r.weights[i];
      signal[k] = r.signal[i];
      excluded[k] = r.excluded[i];
    }
  const config = JSON.parse(JSON.stringify(cfg, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as unknown;
  return encodeParquet(WEIGHTS_SPECS, { ts, trigger, symbol, weight, signal, excluded }, n, { metadata: { weights: { config } } });
}

/** One row of a weights file. */
export interface WeightsFileRow {
  ts: bigint;
  trigger: string;
  symbol: string;
  weight: number;
  signal: number | null;
  excluded: string | null;
}

/** Reads a weights file back, exactly (ns times as bigint). */
export async function readWeightsFile(path: string): Promise<WeightsFileRow[]> {
  const src = await openParquet(path);
  const rows: WeightsFileRow[] = [];
  for (let g = 0; g < src.numRowGroups; g++) {
    const t = src.readRowGroup(g);
    // exact ns: a row's toJSON gives timestamps in ms
    const ts = t.getChild('ts')!.data.flatMap((d) => [...chunkValues(d as unknown as { values: BigInt64Array; offset: number; length: number })]);
    for (let i = 0; i < t.numRows; i++) {
      const r = t.get(i)!.toJSON() as Record<string, unknown>;
      rows.push({ ts: ts[i], trigger: r.trigger as string, symbol: r.symbol as string, weight: r.weight as number, signal: (r.signal as number | null) ?? null, excluded: (r.excluded as string | null) ?? null });
    }
  }
  return rows;
}
