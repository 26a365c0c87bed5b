/**
 * The factor table: one row per output row of the fold, keyed by the input event's identity.
 * Columns: symbol, source (the event kind), seq, ts_event, ts_recv, then one nullable float64 per
 * factor output. Rows are buffered column-wise and streamed to Parquet (or, for a `.arrow` path,
 * Arrow IPC) a batch at a time.
 */
import type { MarketEvent } from '../core/events.ts';
import type { RowSink } from '../core/fold.ts';
import type { ColumnData, ColumnSpec } from './parquet-io.ts';
import { ParquetStreamWriter } from './parquet-stream-writer.ts';
import type { ArrowCompression } from './arrow-ipc-writer.ts';
import { outputFormat } from './output-format.ts';

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
  /** Body compression of an `.arrow` output (default none). The format follows the path's extension. */
  arrowCompression?: ArrowCompression;
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
  /** Dictionaries for the two string key columns; ids are stable for the whole run. */
  private readonly symbolIds = new Map<string, number>();
  private readonly symbols: string[] = [];
  private readonly sourceIds = new Map<string, number>();
  private readonly sources: string[] = [];
  private symbol!: Int32Array;
  private source!: Int32Array;
  private seq!: BigInt64Array;
  private tsEvent!: BigInt64Array;
  private tsRecv!: BigInt64Array;
  private values!: Float64Array[];
  private valid!: Uint8Array[];

  constructor(
    readonly path: string,
    private readonly factorColumns: readonly string[],
    opts: FactorTableSinkOptions = {},
  ) {
    this.cap = opts.batchRows ?? 16384;
    // statistics on the key columns only: DuckDB, polars and pyarrow prune row groups by symbol and
    // time; min/max of factor values would cost the encoder more than anything else it does
    this.writer = new ParquetStreamWriter(path, factorTableSpecs(factorColumns), {
      rowGroupSize: opts.rowGroupSize,
      metadata: opts.metadata,
      statisticsColumns: KEY_COLUMNS.map((c) => c.name),
      format: outputFormat(path),
      arrowCompression: opts.arrowCompression,
    });
    this.allocate();
  }

  /** Fresh buffers: the previous ones were transferred to the writer thread. */
  private allocate(): void {
    this.symbol = new Int32Array(this.cap);
    this.source = new Int32Array(this.cap);
    this.seq = new BigInt64Array(this.cap);
    this.tsEvent = new BigInt64Array(this.cap);
    this.tsRecv = new BigInt64Array(this.cap);
    this.values = this.factorColumns.map(() => new Float64Array(this.cap));
    this.valid = this.factorColumns.map(() => new Uint8Array(this.cap));
  }

  private static id(ids: Map<string, number>, list: string[], s: string): number {
    let id = ids.get(s);
    if (id === undefined) {
      id = list.length;
      ids.set(s, id);
      list.push(s);
    }
    return id;
  }

  /** The fold's row callback. Call `drain()` when `full` (it is async; this is not). */
  readonly row: RowSink = (ev: MarketEvent, symbol: string, values: readonly (number | null)[]) => {
    const i = this.n++;
    this.symbol[i] = FactorTableSink.id(this.symbolIds, this.symbols, symbol);
    this.source[i] = FactorTableSink.id(this.sourceIds, this.sources, ev.kind);
    this.seq[i] = ev.seq;
    this.tsEvent[i] = ev.tsEvent;
    this.tsRecv[i] = ev.tsRecv;
    for (let c = 0; c < values.length; c++) {
      const v = values[c];
      if (v !== null) {
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
    const columns: Record<string, ColumnData> = {
      symbol: { dict: [...this.symbols], indices: this.symbol.subarray(0, n) },
      source: { dict: [...this.sources], indices: this.source.subarray(0, n) },
      seq: this.seq.subarray(0, n),
      ts_event: this.tsEvent.subarray(0, n),
      ts_recv: this.tsRecv.subarray(0, n),
    };
    this.factorColumns.forEach((name, c) => {
      columns[name] = { values: this.values[c].subarray(0, n), valid: this.valid[c].subarray(0, n) };
    });
    this.n = 0;
    this.allocate();
    await this.writer.write(columns, n);
  }

  /** Stops writing and removes the partial file. */
  async abort(): Promise<void> {
    await this.writer.abort();
  }

  async close(): Promise<SinkResult> {
    await this.drain();
    await this.writer.close();
    // hashed by the writer thread as it wrote the bytes (no read-back of the whole file)
    return { path: this.path, rows: this.writer.rows, bytes: this.writer.bytesWritten, sha256: this.writer.sha256 };
  }
}
