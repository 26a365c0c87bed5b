/**
 * Reads one catalog file as a stream of events, a row group at a time and a slice of rows at a
 * time within it, so memory holds one decoded row group per open file. Checks that rows are in
 * core's event order: the merge is only correct (and split-independent) if every file is sorted.
 */
import { compareEvents, type Kind, type MarketEvent } from '../core/events.ts';
import { checkSchema, rowGroupDecoder, tsRecvApprox, type RowDecoder } from './catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { MAX_SEQ_JUMP, seqJumpProblem } from '../core/plausibility.ts';

/** A float pre-check (no bigint arithmetic per row) below the sequence bound; the exact check follows. */
const SEQ_JUMP_HINT = Number(MAX_SEQ_JUMP) / 2;
import type { Table } from 'apache-arrow';
import type { DecodePool } from './decode-pool.ts';
import { openParquet, type ParquetSource } from './parquet-io.ts';

/** Events materialised per slice: small enough to keep many cursors cheap, big enough to amortise. */
const SLICE = 2048;

export interface CursorOptions {
  /** Only events of these symbols (heartbeats always pass). */
  symbols?: ReadonlySet<string>;
  /** Only events with fromNs <= ts_recv < toNs. */
  fromNs?: bigint;
  toNs?: bigint;
}

export class EventCursor {
  /** Current event, or null when the file is exhausted. */
  head: MarketEvent | null = null;
  /** head.tsRecv as a correctly rounded float64 (see tsRecvApprox); +Infinity when exhausted. */
  headT = Infinity;
  private approx: Float64Array = new Float64Array(0);
  private group = -1;
  private groupFirstRow = 0;
  private groupRows = 0;
  private nextRow = 0;
  private decode: RowDecoder | null = null;
  private buf: MarketEvent[] = [];
  private pos = 0;
  private bufFirstRow = 0;
  private prev: MarketEvent | null = null;
  private prevRow = -1;
  /** Per symbol of the file, its last sequence number before the current run of another symbol. */
  private readonly lastSeq = new Map<string, bigint>();
  rowsRead = 0;

  private poolFile = -1;

  private constructor(
    readonly src: ParquetSource,
    readonly kind: Kind,
    private readonly opts: CursorOptions,
    private readonly pool: DecodePool | undefined,
  ) {}

  /**
   * Opens a catalog file and positions on its first event. With a decode pool, row groups are
   * decoded on the pool's worker, one group ahead of the one being read.
   */
  static async open(path: string, kind: Kind, opts: CursorOptions = {}, pool?: DecodePool): Promise<EventCursor> {
    const src = await openParquet(path);
    checkSchema(path, kind, src.columns);
    const c = new EventCursor(src, kind, opts, pool);
    if (pool && src.numRowGroups > 0) {
      c.poolFile = pool.open(path);
      pool.request(c.poolFile, 0);
    }
    return c;
  }

  /** Positions every cursor on its first event (after all have asked for their first group). */
  static start(cursors: readonly EventCursor[]): void {
    for (const c of cursors) c.advance();
  }

  private loadGroup(g: number): Table {
    if (!this.pool) return this.src.readRowGroup(g);
    const t = this.pool.take(this.poolFile, g);
    if (g + 1 < this.src.numRowGroups) this.pool.request(this.poolFile, g + 1);
    else this.pool.closeFile(this.poolFile);
    return t;
  }

  /** Moves `head` to the next event that passes the filters. */
  advance(): void {
    for (;;) {
      if (this.pos >= this.buf.length && !this.fill()) {
        this.head = null;
        this.headT = Infinity;
        return;
      }
      const e = this.buf[this.pos++];
      const row = this.bufFirstRow + this.pos - 1;
      const t = this.approx[row - this.groupFirstRow];
      this.checkOrder(e, row);
      this.rowsRead++;
      const o = this.opts;
      if (o.symbols && e.kind !== 'heartbeat' && !o.symbols.has(e.symbol)) continue;
      if (o.fromNs !== undefined && e.tsRecv < o.fromNs) continue;
      if (o.toNs !== undefined && e.tsRecv >= o.toNs) {
        // rows are sorted by ts_recv: nothing later can pass
        this.head = null;
        this.headT = Infinity;
        return;
      }
      this.head = e;
      this.headT = t;
      return;
    }
  }

  private checkOrder(e: MarketEvent, row: number): void {
    const p = this.prev;
    // The plausibility rule (core/plausibility.ts) within the file: a sequence number far ahead of
    // the previous row of its source is rejected here, where its file and row are known. A file
    // holds one kind; in a file of several symbols, each symbol's last seq is kept when the next
    // row is another symbol's (rows of one symbol usually come in runs: the map is rarely touched).
    if (p !== null) {
      let last = p.seq;
      if (p.symbol !== e.symbol) {
        this.lastSeq.set(p.symbol, p.seq);
        last = this.lastSeq.get(e.symbol) ?? -1n;
      }
      if (last >= 0n && Number(e.seq) - Number(last) > SEQ_JUMP_HINT) {
        const bad = seqJumpProblem(last, e.seq);
        if (bad) throw new InputError({ file: this.src.path, row, field: bad.field, value: bad.value, reason: bad.reason });
      }
    }
    // the common case (time moved forward) needs no full comparison
    if (p !== null && p.tsRecv >= e.tsRecv && compareEvents(p, e) > 0) {
      const field = p.tsRecv > e.tsRecv ? 'ts_recv' : p.symbol !== e.symbol ? 'symbol' : 'seq';
      const value = field === 'ts_recv' ? e.tsRecv : field === 'symbol' ? e.symbol : e.seq;
      const before = field === 'ts_recv' ? p.tsRecv : field === 'symbol' ? p.symbol : p.seq;
      throw new InputError({
        file: this.src.path,
        row,
        field,
        value,
        reason: `rows must be sorted by (ts_recv, symbol, seq) but this row comes before row ${this.prevRow} (${field} ${String(before)}); rewrite the file sorted`,
      });
    }
    this.prev = e;
    this.prevRow = row;
  }

  private fill(): boolean {
    this.buf.length = 0;
    this.pos = 0;
    while (this.decode === null || this.nextRow >= this.groupRows) {
      this.group++;
      if (this.group >= this.src.numRowGroups) return false;
      this.groupFirstRow += this.groupRows;
      const table = this.loadGroup(this.group);
      this.groupRows = table.numRows;
      this.nextRow = 0;
      this.decode = rowGroupDecoder(this.kind, table, this.src.path, this.groupFirstRow);
      this.approx = tsRecvApprox(table);
    }
    const end = Math.min(this.nextRow + SLICE, this.groupRows);
    this.bufFirstRow = this.groupFirstRow + this.nextRow;
    this.decode(this.nextRow, end, this.buf);
    this.nextRow = end;
    return true;
  }
}
