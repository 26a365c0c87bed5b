/**
 * Reads one catalog file as a stream of rows in column batches (core/event-batch.ts), a row group
 * at a time, so memory holds one decoded row group per open file and no object per row. The
 * cursor's head is a position, (batch, row); `head` builds the event object only for callers that
 * ask for one. Checks that rows are valid and in core's event order: the merge is only correct
 * (and split-independent) if every file is sorted.
 *
 * Rows are checked a slice at a time, when the cursor first reaches the slice, as the row decoder
 * did: a bad value throws when its slice is reached, an order or sequence problem when its row is,
 * so the same input fails with the same error as before columns.
 */
import type { Kind, MarketEvent } from '../core/events.ts';
import { compareRows, emptyBatch, eventAt, firstInvalidRow, type EventBatch } from '../core/event-batch.ts';
import { batchFromTable, checkSchema, readColumns, SymbolIds } from './catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { MAX_SEQ_JUMP, seqJumpProblem } from '../core/plausibility.ts';
import type { Table } from 'apache-arrow';
import type { DecodePool } from './decode-pool.ts';
import { openParquet, type ParquetSource } from './parquet-io.ts';

/** A float pre-check (no bigint arithmetic per row) below the sequence bound; the exact check follows. */
const SEQ_JUMP_HINT = Number(MAX_SEQ_JUMP) / 2;

/** Rows checked per slice: the row decoder's slice, so errors surface at the same point. */
const SLICE = 2048;

const NO_ROWS = emptyBatch('heartbeat', 0, {
  tsEvent: new BigInt64Array(0),
  tsRecv: new BigInt64Array(0),
  seq: new BigInt64Array(0),
  tsRecvF: new Float64Array(0),
  symbolId: new Int32Array(0),
  symbols: [],
});

export interface CursorOptions {
  /** Only events of these symbols (heartbeats always pass). */
  symbols?: ReadonlySet<string>;
  /** Only events with fromNs <= ts_recv < toNs. */
  fromNs?: bigint;
  toNs?: bigint;
}

export class EventCursor {
  /** The batch holding the head row (its row group). */
  batch: EventBatch = NO_ROWS;
  /** The head's row in `batch`. */
  row = -1;
  /** The head's ts_recv as a correctly rounded float64; +Infinity when exhausted. */
  headT = Infinity;
  private done = false;
  private group = -1;
  private groupFirstRow = 0;
  /** Rows [0, checkedEnd) of the current group have been validated and order-checked. */
  private checkedEnd = 0;
  /** The first row of the group that fails the order or sequence check, thrown when reached. */
  private badRow = -1;
  private badError: InputError | null = null;
  /** The last row of the previous group, for the order check of a group's first row. */
  private prevBatch: EventBatch | null = null;
  private readonly symbolIds = new SymbolIds();
  /** Per symbol id of the file: its last sequence number (float, and exact as int32 halves; -1: none). */
  private lastSeqF = new Float64Array(64).fill(-1);
  private lastSeqHi = new Int32Array(64);
  private lastSeqLo = new Int32Array(64);
  private readonly fromF: number;
  private readonly toF: number;
  rowsRead = 0;

  private poolFile = -1;

  private constructor(
    readonly src: ParquetSource,
    readonly kind: Kind,
    private readonly opts: CursorOptions,
    private readonly pool: DecodePool | undefined,
  ) {
    this.fromF = opts.fromNs === undefined ? -Infinity : Number(opts.fromNs);
    this.toF = opts.toNs === undefined ? Infinity : Number(opts.toNs);
  }

  /**
   * Opens a catalog file and positions on its first event. With a decode pool, row groups are
   * decoded on the pool's worker, one group ahead of the one being read.
   */
  static async open(path: string, kind: Kind, opts: CursorOptions = {}, pool?: DecodePool): Promise<EventCursor> {
    const src = await openParquet(path);
    checkSchema(path, kind, src.columns);
    const c = new EventCursor(src, kind, opts, pool);
    if (pool && src.numRowGroups > 0) {
      c.poolFile = pool.open(path, readColumns(kind, src.columns));
      pool.request(c.poolFile, 0, src.rowGroupRows[0]);
    }
    return c;
  }

  /** Positions every cursor on its first event (after all have asked for their first group). */
  static start(cursors: readonly EventCursor[]): void {
    for (const c of cursors) c.advance();
  }

  /** The head as an event object, or null before `start` and once the file is exhausted (builds a new object). */
  get head(): MarketEvent | null {
    return this.done || this.row < 0 ? null : eventAt(this.batch, this.row);
  }

  private loadGroup(g: number): Table {
    if (!this.pool) return this.src.readRowGroup(g);
    const t = this.pool.take(this.poolFile, g);
    if (g + 1 < this.src.numRowGroups) this.pool.request(this.poolFile, g + 1, this.src.rowGroupRows[g + 1]);
    else this.pool.closeFile(this.poolFile);
    return t;
  }

  private finish(): void {
    this.done = true;
    this.headT = Infinity;
  }

  /** Moves the head to the next row that passes the filters. */
  advance(): void {
    if (this.done) return;
    const o = this.opts;
    for (;;) {
      let r = this.row + 1;
      if (r >= this.checkedEnd) {
        if (!this.fill()) return this.finish();
        r = this.row + 1;
      }
      this.row = r;
      if (r === this.badRow) throw this.badError!;
      this.rowsRead++;
      const b = this.batch;
      const t = b.tsRecvF[r];
      if (o.symbols && b.kind !== 'heartbeat' && !o.symbols.has(b.symbols[b.symbolId[r]])) continue;
      if (t <= this.fromF && o.fromNs !== undefined && b.tsRecv[r] < o.fromNs) continue;
      if (t >= this.toF && o.toNs !== undefined && b.tsRecv[r] >= o.toNs) {
        // rows are sorted by ts_recv: nothing later can pass
        return this.finish();
      }
      this.headT = t;
      return;
    }
  }

  /** Checks the next slice of rows, loading the next row group when this one is done; false at the end. */
  private fill(): boolean {
    while (this.checkedEnd >= this.batch.n) {
      if (this.group + 1 >= this.src.numRowGroups) return false;
      if (this.batch.n > 0) this.prevBatch = this.batch;
      this.groupFirstRow += this.batch.n;
      this.group++;
      this.batch = batchFromTable(this.kind, this.loadGroup(this.group), this.symbolIds);
      this.row = -1;
      this.checkedEnd = 0;
      this.badRow = -1;
      this.badError = null;
    }
    const start = this.checkedEnd;
    const end = Math.min(start + SLICE, this.batch.n);
    const bad = firstInvalidRow(this.batch, start, end);
    if (bad) {
      const p = bad.problem;
      throw new InputError({ file: this.src.path, row: this.groupFirstRow + bad.row, field: p.field, value: p.value, reason: p.reason });
    }
    if (this.badRow < 0) this.checkSequence(start, end);
    this.checkedEnd = end;
    return true;
  }

  /**
   * The order rule and the plausibility rule on sequence numbers (core/plausibility.ts) for rows
   * [start, end), each against the row before it in the file; the first failing row is kept to be
   * thrown when the cursor reaches it, where its file and row are known. A file holds one kind; in
   * a file of several symbols each symbol's sequence is judged against its own last row.
   */
  private checkSequence(start: number, end: number): void {
    const b = this.batch;
    const sq = new Int32Array(b.seq.buffer, b.seq.byteOffset, b.n * 2);
    const tf = b.tsRecvF;
    const sid = b.symbolId;
    this.growSeqTables(b.symbols.length);
    const lastF = this.lastSeqF;
    const lastHi = this.lastSeqHi;
    const lastLo = this.lastSeqLo;
    for (let i = start; i < end; i++) {
      const s = sid[i];
      const hi = sq[2 * i + 1];
      const lo = sq[2 * i];
      const f = hi * 4294967296 + (lo >>> 0);
      const last = lastF[s];
      if (last >= 0 && f - last > SEQ_JUMP_HINT) {
        const bad = seqJumpProblem((BigInt(lastHi[s]) << 32n) | BigInt(lastLo[s] >>> 0), b.seq[i]);
        if (bad) return this.markBad(i, new InputError({ file: this.src.path, row: this.groupFirstRow + i, field: bad.field, value: bad.value, reason: bad.reason }));
      }
      lastF[s] = f;
      lastHi[s] = hi;
      lastLo[s] = lo;
      // the common case (time moved forward) needs no exact comparison
      const pb = i > 0 ? b : this.prevBatch;
      if (pb !== null) {
        const pi = i > 0 ? i - 1 : pb.n - 1;
        if (pb.tsRecvF[pi] >= tf[i] && compareRows(pb, pi, b, i) > 0) return this.markBad(i, this.orderError(pb, pi, i));
      }
    }
    this.prevBatch = null;
  }

  private markBad(row: number, e: InputError): void {
    this.badRow = row;
    this.badError = e;
  }

  private orderError(pb: EventBatch, pi: number, i: number): InputError {
    const b = this.batch;
    const p = { tsRecv: pb.tsRecv[pi], symbol: pb.symbols[pb.symbolId[pi]], seq: pb.seq[pi] };
    const e = { tsRecv: b.tsRecv[i], symbol: b.symbols[b.symbolId[i]], seq: b.seq[i] };
    const field = p.tsRecv > e.tsRecv ? 'ts_recv' : p.symbol !== e.symbol ? 'symbol' : 'seq';
    const value = field === 'ts_recv' ? e.tsRecv : field === 'symbol' ? e.symbol : e.seq;
    const before = field === 'ts_recv' ? p.tsRecv : field === 'symbol' ? p.symbol : p.seq;
    const prevRow = this.groupFirstRow + i - 1;
    return new InputError({
      file: this.src.path,
      row: this.groupFirstRow + i,
      field,
      value,
      reason: `rows must be sorted by (ts_recv, symbol, seq) but this row comes before row ${prevRow} (${field} ${String(before)}); rewrite the file sorted`,
    });
  }

  private growSeqTables(n: number): void {
    if (n <= this.lastSeqF.length) return;
    const size = Math.max(n, this.lastSeqF.length * 2);
    const f = new Float64Array(size).fill(-1);
    f.set(this.lastSeqF);
    const hi = new Int32Array(size);
    hi.set(this.lastSeqHi);
    const lo = new Int32Array(size);
    lo.set(this.lastSeqLo);
    this.lastSeqF = f;
    this.lastSeqHi = hi;
    this.lastSeqLo = lo;
  }
}
