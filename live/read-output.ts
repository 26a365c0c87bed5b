/**
 * Reads a deployment's output streams back as rows keyed by input event identity, for parity
 * capture and tests. Values keep their exact float64 (the wire uses shortest round-trip decimals).
 * Each stream entry holds the rows of one commit (field `rows`, one row per line).
 *
 * `readOutputRows` loads everything (tests, small captures); `streamOutputRows` pages through each
 * shard's stream with XRANGE and merges the shards in replay order, so a capture of millions of
 * rows is read with a few pages in memory and comes out in the order a replay wrote its table.
 */
import { compareRowKey } from '../core/row-key.ts';
import type { RedisClient } from './redis-connect.ts';
import { metaKey, outputStream, type KeyLayout } from './keys.ts';

export interface OutputRow {
  symbol: string;
  source: string;
  seq: bigint;
  tsEvent: bigint;
  tsRecv: bigint;
  /** Input stream entry that produced the row. */
  input: string;
  values: (number | null)[];
}

/** The deployment's factor columns, in the order of each row's values. */
export async function readOutputColumns(r: RedisClient, keys: KeyLayout): Promise<string[]> {
  return ((await r.hget(metaKey(keys), 'columns')) ?? '').split(',').filter(Boolean);
}

export async function readOutputRows(r: RedisClient, keys: KeyLayout): Promise<{ columns: string[]; rows: OutputRow[] }> {
  const columns = await readOutputColumns(r, keys);
  const rows: OutputRow[] = [];
  for (let s = 0; s < keys.shards; s++) {
    let from = '-';
    for (;;) {
      const batch = (await r.xrange(outputStream(keys, s), from, '+', 'COUNT', 5000)) as [string, string[]][];
      if (batch.length === 0) break;
      for (const [, f] of batch) rowsOfEntry(f, rows);
      from = `(${batch[batch.length - 1][0]}`;
    }
  }
  return { columns, rows };
}

/**
 * One shard's output stream read a page of about `pageRows` rows at a time, the next page fetched
 * while this one is used. An entry holds a commit's rows (one to a batch's worth), so the number
 * of entries per XRANGE follows the rows per entry seen so far, and also the bytes per entry: a
 * page stays near PAGE_BYTES whatever the row width (a 1,000-column set's 5,000 rows are ~50 MB,
 * a reply that four shards' prefetches parse past the client's command timeout on a busy machine).
 */
const PAGE_BYTES = 4 << 20;

class ShardPages {
  private from = '-';
  private page: OutputRow[] = [];
  private pos = 0;
  private next: Promise<{ rows: OutputRow[]; full: boolean }> | null;
  /** Entries asked for by the next XRANGE: few at first, until entries were seen. */
  private count: number;
  private entriesSeen = 0;
  private rowsSeen = 0;
  private bytesSeen = 0;

  constructor(
    private readonly r: RedisClient,
    private readonly stream: string,
    private readonly pageRows: number,
  ) {
    // a first page of two entries: their width sizes the next pages
    this.count = Math.min(pageRows, 2);
    this.next = this.prefetch();
  }

  /**
   * The next page, fetched now and awaited later: marked handled at once, so that a failed read
   * (a timeout) reaches the reader when it awaits the page instead of crashing the process as an
   * unhandled rejection while another shard's page is being read.
   */
  private prefetch(): Promise<{ rows: OutputRow[]; full: boolean }> {
    const p = this.fetch();
    p.catch(() => {});
    return p;
  }

  /** The rows of the next `count` entries, and whether there were that many (more may follow). */
  private async fetch(): Promise<{ rows: OutputRow[]; full: boolean }> {
    const count = this.count;
    const batch = (await this.r.xrange(this.stream, this.from, '+', 'COUNT', count)) as [string, string[]][];
    const rows: OutputRow[] = [];
    if (batch.length === 0) return { rows, full: false };
    this.from = `(${batch[batch.length - 1][0]}`;
    for (const [, f] of batch) {
      rowsOfEntry(f, rows);
      for (let i = 0; i < f.length; i++) this.bytesSeen += f[i].length;
    }
    this.entriesSeen += batch.length;
    this.rowsSeen += rows.length;
    const byRows = this.pageRows / Math.max(1, this.rowsSeen / this.entriesSeen);
    const byBytes = PAGE_BYTES / Math.max(1, this.bytesSeen / this.entriesSeen);
    this.count = Math.max(1, Math.min(this.pageRows, Math.round(Math.min(byRows, byBytes))));
    return { rows, full: batch.length === count };
  }

  /** The shard's next row without consuming it; null once the stream is exhausted. */
  async head(): Promise<OutputRow | null> {
    while (this.pos >= this.page.length) {
      if (this.next === null) return null;
      const { rows, full } = await this.next;
      this.page = rows;
      this.pos = 0;
      // a short page is the stream's end (as read now); a full one may have a successor
      this.next = full ? this.prefetch() : null;
    }
    return this.page[this.pos];
  }

  take(): void {
    this.pos++;
  }
}

/**
 * Every output row of the deployment, merged across shards by `compareRowKey`. Each shard's
 * stream is in its worker's processing order, which is the replay order restricted to the shard,
 * so the merged sequence is the replay's row order.
 */
export async function* streamOutputRows(r: RedisClient, keys: KeyLayout, opts: { pageSize?: number } = {}): AsyncGenerator<OutputRow> {
  const shards = Array.from({ length: keys.shards }, (_, s) => new ShardPages(r, outputStream(keys, s), opts.pageSize ?? 5000));
  const heads: (OutputRow | null)[] = await Promise.all(shards.map((s) => s.head()));
  for (;;) {
    // linear scan: K is a handful of shards, and rows per shard dominate the cost
    let best = -1;
    for (let s = 0; s < heads.length; s++) {
      const h = heads[s];
      if (h !== null && (best < 0 || compareRowKey(h, heads[best]!) < 0)) best = s;
    }
    if (best < 0) return;
    yield heads[best]!;
    shards[best].take();
    heads[best] = await shards[best].head();
  }
}

/**
 * The rows of one output stream entry, appended to `out`: field `rows` holds a commit's rows, one
 * per line (what the worker writes); field `r` holds one row (the format before rows were batched
 * per commit, still read).
 */
export function rowsOfEntry(fields: readonly string[], out: OutputRow[]): void {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'rows') {
      for (const line of fields[i + 1].split('\n')) out.push(parseRow(line));
    } else if (fields[i] === 'r') out.push(parseRow(fields[i + 1]));
  }
}

/** Parses one output row (worker/row-format.ts encodeRow). */
export function parseRow(r: string): OutputRow {
  const [symbol, source, seq, te, tr, input, v] = r.split('|');
  return { symbol, source, seq: BigInt(seq), tsEvent: BigInt(te), tsRecv: BigInt(tr), input, values: v.split(',').map((x) => (x === '' ? null : Number(x))) };
}
