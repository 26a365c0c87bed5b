/**
 * The factor table: one row per output row of the fold, keyed by the input event's identity.
 * Columns: symbol, source (the event kind), seq, ts_event, ts_recv, then one nullable float64 per
 * factor output. Rows are buffered column-wise and streamed to Parquet a batch at a time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MarketEvent } from '../core/events.ts';
import type { RowSink } from '../core/fold.ts';
import type { ColumnSpec } from './parquet-io.ts';
import { ParquetStreamWriter } from './parquet-stream-writer.ts';

export const KEY_COLUMNS: ColumnSpec[] = [
  { name: 'symbol', type: 'utf8' },
  { name: 'source', type: 'utf8' },
  { name: 'seq', type: 'int64' },
  { name: 'ts_event', type: 'timestamp' },
  { name: 'ts_recv', type: 'timestamp' },
];

export function factorTableSpecs(factorColumns: readonly string[]): ColumnSpec[] {
  return [...KEY_COLUMNS, ...factorColumns.map((name) => ({ name, type: 'float64' as const, nullable: true }))];
}

export interface FactorTableSinkOptions {
  /** Rows per batch handed to the encoder (default 65536). Does not change the output bytes. */
  batchRows?: number;
  /** Rows per Parquet row group (default 131072). */
  rowGroupSize?: number;
  metadata?: Record<string, unknown>;
}

export interface SinkResult {
  path: string;
  rows: number;
  bytes: number;
  /** sha256 of the file's bytes. */
  sha256: string;
}

export class FactorTableSink {
  private readonly writer: ParquetStreamWriter;
  private readonly cap: number;
  private n = 0;
  private symbol: string[] = [];
  private source: string[] = [];
  private seq: BigInt64Array;
  private tsEvent: BigInt64Array;
  private tsRecv: BigInt64Array;
  private values: Float64Array[];
  private valid: Uint8Array[];

  constructor(
    readonly path: string,
    private readonly factorColumns: readonly string[],
    opts: FactorTableSinkOptions = {},
  ) {
    this.cap = opts.batchRows ?? 65536;
    this.writer = new ParquetStreamWriter(path, factorTableSpecs(factorColumns), { rowGroupSize: opts.rowGroupSize, metadata: opts.metadata });
    this.seq = new BigInt64Array(this.cap);
    this.tsEvent = new BigInt64Array(this.cap);
    this.tsRecv = new BigInt64Array(this.cap);
    this.values = factorColumns.map(() => new Float64Array(this.cap));
    this.valid = factorColumns.map(() => new Uint8Array(this.cap));
  }

  /** The fold's row callback. Call `drain()` regularly (it is async; this is not). */
  readonly row: RowSink = (ev: MarketEvent, symbol: string, values: readonly (number | null)[]) => {
    const i = this.n++;
    this.symbol.push(symbol);
    this.source.push(ev.kind);
    this.seq[i] = ev.seq;
    this.tsEvent[i] = ev.tsEvent;
    this.tsRecv[i] = ev.tsRecv;
    for (let c = 0; c < values.length; c++) {
      const v = values[c];
      if (v === null) {
        this.valid[c][i] = 0;
        this.values[c][i] = 0;
      } else {
        this.valid[c][i] = 1;
        this.values[c][i] = v;
      }
    }
  };

  /** True when the buffer must be flushed before more rows arrive. */
  get full(): boolean {
    // a heartbeat can emit one row per symbol: keep headroom for that
    return this.n >= this.cap - 4096;
  }

  async drain(): Promise<void> {
    if (this.n === 0) return;
    const n = this.n;
    const columns: Record<string, import('./parquet-io.ts').ColumnData> = {
      symbol: this.symbol,
      source: this.source,
      seq: this.seq.subarray(0, n),
      ts_event: this.tsEvent.subarray(0, n),
      ts_recv: this.tsRecv.subarray(0, n),
    };
    this.factorColumns.forEach((name, c) => {
      columns[name] = { values: this.values[c].subarray(0, n), valid: this.valid[c].subarray(0, n) };
    });
    await this.writer.write(columns, n);
    this.n = 0;
    this.symbol = [];
    this.source = [];
  }

  async close(): Promise<SinkResult> {
    await this.drain();
    await this.writer.close();
    const bytes = readFileSync(this.path);
    return { path: this.path, rows: this.writer.rows, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
}
