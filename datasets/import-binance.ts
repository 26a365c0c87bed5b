/**
 * Importer for Binance spot websocket captures (hftbacktest's format: one `<local receive ts ns>
 * <json>` line per message, gzipped) into the canonical catalog: trades, quotes (bookTicker), L2
 * book rows (REST snapshot + depth diffs) and heartbeats.
 *
 * Conventions, all deliberate:
 * - The files of a directory are one continuous stream, read in name order (a capture split at
 *   midnight still has one order book). Local receive times must never go backwards.
 * - Trades: ts_event = trade time T, ts_recv = local ts, side = m ? -1 : 1 (m = buyer is maker, so
 *   the seller crossed the spread), trade_id = t.
 * - Quotes: bookTicker has no exchange time, so ts_event = ts_recv = local ts.
 * - Book: Binance's documented sync procedure. Diffs that arrive before the snapshot are buffered;
 *   those fully covered by it (u <= lastUpdateId) are dropped, the first one applied must satisfy
 *   U <= lastUpdateId+1 <= u, and each next one U == previous u + 1. A buffered diff that survives
 *   is written with ts_recv = the snapshot's receive time, right after the snapshot rows: that is
 *   the instant it became applicable, and stamping it with its own (earlier) receive time would put
 *   it before the book it updates. Its ts_event stays the exchange time E.
 * - A U/u gap is a malformed row (field U). Under onError 'skip' it is counted, and the book waits
 *   for the next snapshot (diffs across a gap cannot be applied, per Binance); diffs still waiting
 *   at the end are reported in the notes.
 * - The REST snapshot carries no symbol: it belongs to the symbol of the stream.
 * - Row policy (import-policy.ts, as in every importer): a line received before the previous one
 *   is rejected (the files of a directory are one stream, so this holds across files too); rows
 *   keep their own symbol `s`, listed in the notes (with `--symbol`, messages of another symbol
 *   are rejected); crossed and locked bookTicker quotes are counted in the notes.
 * - Plausibility (core/plausibility.ts, the rule replay applies): a price or size of 1e15 or more,
 *   or a trade/depth time (T, E) more than a day after the line's receive time, is a rejected row.
 * - seq numbers each (kind, symbol) 1, 2, 3, ... in receive order (the platform's own gap-free
 *   sequence); the exchange's ids are kept in trade_id / update_id (snapshot rows: lastUpdateId).
 * - Heartbeats cover the receive-time span of the events written (buffered diffs that the
 *   snapshot covered are not events, so the span starts at the first trade or quote here).
 */
import { writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import type { BookEvent, Kind } from '../core/events.ts';
import { heartbeatsCovering } from './heartbeats.ts';
import type { ImportOptions, ImportReport } from './import-report.ts';
import { quoteStateNote, RowSymbols } from './import-policy.ts';
import { countByKind, listInputs, newRejects, rejectRow, RowProblem, type Rejects } from './csv-lines.ts';
import { readTextLines } from './text-lines.ts';
import { eventAheadProblem, magnitudeProblem } from '../core/plausibility.ts';

const INPUT_RE = /\.(gz|txt)$/;
const NS_PER_MS = 1_000_000n;
const DECIMAL_RE = /^\d+(\.\d+)?$/;

type Json = Record<string, unknown>;
type Level = [price: number, size: number];

interface Where {
  file: string;
  line: number;
}

interface DepthDiff extends Where {
  tsRecv: bigint;
  tsEvent: bigint;
  U: bigint;
  u: bigint;
  bids: Level[];
  asks: Level[];
}

interface Snapshot extends Where {
  tsRecv: bigint;
  lastUpdateId: bigint;
  bids: Level[];
  asks: Level[];
}

/** Sync state of one symbol's book. `lastU` null: no snapshot applied (yet, or since a gap). */
interface BookSync {
  lastU: bigint | null;
  /** The next diff is the first after a snapshot (the U <= L+1 <= u rule applies). */
  first: boolean;
  buffer: DepthDiff[];
}

function field(o: Json, key: string): unknown {
  if (!(key in o) || o[key] === null) throw new RowProblem(key, 'missing', 'is missing');
  return o[key];
}

function decimal(o: Json, key: string, min: 'zero' | 'positive'): number {
  return decimalValue(key, field(o, key), min);
}

function decimalValue(key: string, v: unknown, min: 'zero' | 'positive'): number {
  if (typeof v !== 'string' || !DECIMAL_RE.test(v)) {
    const shown = typeof v === 'string' ? v : JSON.stringify(v);
    if (typeof v === 'string' && /^-\d+(\.\d+)?$/.test(v)) throw new RowProblem(key, v, 'must be >= 0');
    throw new RowProblem(key, shown, 'is not a decimal string');
  }
  const x = Number.parseFloat(v);
  // the plausibility rule (core/plausibility.ts): replay refuses such a value, so import does too
  const absurd = magnitudeProblem(key, x);
  if (absurd) throw new RowProblem(key, v, absurd.reason);
  if (min === 'positive' && !(x > 0)) throw new RowProblem(key, v, 'must be > 0');
  return x;
}

/** An exchange time in ms (`T`, `E`) as ns, no more than a day after the line's receive time. */
function eventTime(o: Json, key: string, tsRecv: bigint): bigint {
  const ts = integer(o, key) * NS_PER_MS;
  const ahead = eventAheadProblem(ts, tsRecv);
  if (ahead) throw new RowProblem(key, String(o[key]), ahead.reason);
  return ts;
}

/** A JSON integer that JavaScript read exactly (ids and ms times stay below 2^53). */
function integer(o: Json, key: string): bigint {
  const v = field(o, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RowProblem(key, JSON.stringify(v), 'must be a non-negative integer below 2^53');
  return BigInt(v);
}

function symbolOf(o: Json, symbols: RowSymbols): string {
  const s = field(o, 's');
  if (typeof s !== 'string' || s.length === 0) throw new RowProblem('s', JSON.stringify(s), 'must be a non-empty symbol');
  return symbols.check(s);
}

function levels(o: Json, key: string): Level[] {
  const v = field(o, key);
  if (!Array.isArray(v)) throw new RowProblem(key, JSON.stringify(v), 'must be an array of [price, qty]');
  return v.map((lv, i) => {
    if (!Array.isArray(lv) || lv.length < 2) throw new RowProblem(`${key}[${i}]`, JSON.stringify(lv), 'must be [price, qty]');
    return [decimalValue(`${key}[${i}].price`, lv[0], 'positive'), decimalValue(`${key}[${i}].qty`, lv[1], 'zero')];
  });
}

/** One import run: the rows written so far and the state the stream carries between lines. */
class BinanceRun {
  readonly rows: CatalogRow[] = [];
  readonly notes: string[] = [];
  private readonly seqs = new Map<string, bigint>();
  private readonly books = new Map<string, BookSync>();
  private readonly streamSymbols = new Set<string>();
  private pendingSnapshot: Snapshot | null = null;
  private lastTs: bigint | null = null;
  readonly ignoredStreams = new Map<string, number>();
  coveredDiffs = 0;
  bufferedApplied = 0;
  gaps = 0;

  readonly symbols: RowSymbols;

  constructor(
    private readonly rejects: Rejects,
    only: string | undefined,
  ) {
    this.symbols = new RowSymbols('s', only);
  }

  private nextSeq(kind: Kind, symbol: string): bigint {
    const key = `${kind}\u0000${symbol}`;
    const s = (this.seqs.get(key) ?? 0n) + 1n;
    this.seqs.set(key, s);
    return s;
  }

  /** Parses and applies one line; throws RowProblem for a malformed one (nothing applied then). */
  line(at: Where, text: string): void {
    const sp = text.indexOf(' ');
    const tsText = sp < 0 ? text : text.slice(0, sp);
    if (!/^\d{1,20}$/.test(tsText)) throw new RowProblem('ts_recv', tsText, 'line must start with the local receive time in ns, then a space and the JSON message');
    const tsRecv = BigInt(tsText);
    if (this.lastTs !== null && tsRecv < this.lastTs) throw new RowProblem('ts_recv', tsText, `goes backwards (previous line ${this.lastTs})`);
    let msg: unknown;
    try {
      msg = JSON.parse(text.slice(sp + 1));
    } catch (e) {
      throw new RowProblem('json', text.slice(sp + 1, sp + 81), `is not valid JSON (${(e as Error).message})`);
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new RowProblem('json', text.slice(sp + 1, sp + 81), 'must be a JSON object');
    const o = msg as Json;
    if ('lastUpdateId' in o) this.snapshot(at, tsRecv, o);
    else if (typeof o.stream === 'string' && typeof o.data === 'object' && o.data !== null) this.streamMessage(at, tsRecv, o.stream, o.data as Json);
    else throw new RowProblem('stream', JSON.stringify(o.stream ?? null), 'line is neither a combined-stream message {stream, data} nor a depth snapshot {lastUpdateId, bids, asks}');
    this.lastTs = tsRecv;
  }

  private streamMessage(at: Where, tsRecv: bigint, stream: string, d: Json): void {
    const channel = stream.slice(stream.indexOf('@'));
    if (channel === '@trade') {
      const symbol = symbolOf(d, this.symbols);
      const m = field(d, 'm');
      if (typeof m !== 'boolean') throw new RowProblem('m', JSON.stringify(m), 'must be true or false');
      const row = {
        kind: 'trade' as const,
        tsEvent: eventTime(d, 'T', tsRecv),
        tsRecv,
        symbol,
        price: decimal(d, 'p', 'positive'),
        size: decimal(d, 'q', 'positive'),
        side: (m ? -1 : 1) as 1 | -1,
        tradeId: integer(d, 't'),
      };
      this.seen(symbol, at);
      this.rows.push({ ...row, seq: this.nextSeq('trade', symbol) });
    } else if (channel === '@bookTicker') {
      const symbol = symbolOf(d, this.symbols);
      const row = {
        kind: 'quote' as const,
        tsEvent: tsRecv,
        tsRecv,
        symbol,
        bidPx: decimal(d, 'b', 'zero'),
        bidSz: decimal(d, 'B', 'zero'),
        askPx: decimal(d, 'a', 'zero'),
        askSz: decimal(d, 'A', 'zero'),
      };
      this.seen(symbol, at);
      this.rows.push({ ...row, seq: this.nextSeq('quote', symbol) });
    } else if (channel.startsWith('@depth') && !/@depth\d+/.test(channel)) {
      const symbol = symbolOf(d, this.symbols);
      const diff: DepthDiff = {
        ...at,
        tsRecv,
        tsEvent: eventTime(d, 'E', tsRecv),
        U: integer(d, 'U'),
        u: integer(d, 'u'),
        bids: levels(d, 'b'),
        asks: levels(d, 'a'),
      };
      if (diff.U > diff.u) throw new RowProblem('U', String(diff.U), `first update id is above the last one (u ${diff.u})`);
      this.seen(symbol, at);
      this.diff(symbol, diff, null);
    } else {
      // Partial-depth (@depthN) and other channels carry nothing the catalog models.
      this.ignoredStreams.set(stream, (this.ignoredStreams.get(stream) ?? 0) + 1);
    }
  }

  private seen(symbol: string, at: Where): void {
    this.streamSymbols.add(symbol);
    this.symbols.accept(symbol, at.file);
    if (this.pendingSnapshot) {
      const snap = this.pendingSnapshot;
      this.pendingSnapshot = null;
      this.applySnapshot(symbol, snap);
    }
  }

  private book(symbol: string): BookSync {
    let b = this.books.get(symbol);
    if (!b) this.books.set(symbol, (b = { lastU: null, first: false, buffer: [] }));
    return b;
  }

  private snapshot(at: Where, tsRecv: bigint, o: Json): void {
    const snap: Snapshot = { ...at, tsRecv, lastUpdateId: integer(o, 'lastUpdateId'), bids: levels(o, 'bids'), asks: levels(o, 'asks') };
    if (this.streamSymbols.size > 1) {
      throw new RowProblem('lastUpdateId', String(snap.lastUpdateId), `a REST snapshot carries no symbol and the stream has several (${[...this.streamSymbols].join(', ')})`);
    }
    // A capture may start with the snapshot: it then belongs to the first symbol the stream names.
    if (this.streamSymbols.size === 0) this.pendingSnapshot = snap;
    else this.applySnapshot([...this.streamSymbols][0], snap);
  }

  private applySnapshot(symbol: string, snap: Snapshot): void {
    const b = this.book(symbol);
    const levelsIn = [...snap.bids.map((l) => [1, ...l] as const), ...snap.asks.map((l) => [-1, ...l] as const)];
    levelsIn.forEach(([side, price, size], i) => {
      this.pushBook(symbol, { tsEvent: snap.tsRecv, tsRecv: snap.tsRecv, side, price, size, snapshot: true, last: i === levelsIn.length - 1 }, snap.lastUpdateId);
    });
    this.notes.push(
      `${symbol}: snapshot lastUpdateId ${snap.lastUpdateId} (${snap.bids.length} bids, ${snap.asks.length} asks) applied at ${snap.file} line ${snap.line}` +
        (b.buffer.length > 0 ? `, after ${b.buffer.length} buffered depth diffs` : ''),
    );
    b.lastU = snap.lastUpdateId;
    b.first = true;
    const buffered = b.buffer;
    b.buffer = [];
    for (const d of buffered) this.diff(symbol, d, snap.tsRecv);
  }

  /** Applies (or buffers) one diff; `restamp` is the snapshot's receive time for buffered diffs. */
  private diff(symbol: string, d: DepthDiff, restamp: bigint | null): void {
    const b = this.book(symbol);
    if (b.lastU === null) {
      b.buffer.push(d);
      return;
    }
    if (b.first && d.u <= b.lastU) {
      this.coveredDiffs++;
      return;
    }
    const expected = b.lastU + 1n;
    if (b.first ? d.U > expected : d.U !== expected) {
      this.gaps++;
      const reason = b.first
        ? `first depth diff after the snapshot must have U <= lastUpdateId+1 = ${expected} <= u (u is ${d.u}): updates are missing`
        : `gap in depth updates: expected U = ${expected} (previous u + 1)`;
      // Binance: after a gap the book can only be rebuilt from a new snapshot.
      b.lastU = null;
      rejectRow(this.rejects, { file: d.file, line: d.line, field: 'U', value: String(d.U), reason });
      return;
    }
    if (restamp !== null) this.bufferedApplied++;
    const changes = [...d.bids.map((l) => [1, ...l] as const), ...d.asks.map((l) => [-1, ...l] as const)];
    const tsRecv = restamp ?? d.tsRecv;
    changes.forEach(([side, price, size], i) => {
      this.pushBook(symbol, { tsEvent: d.tsEvent, tsRecv, side, price, size, snapshot: false, last: i === changes.length - 1 }, d.u);
    });
    b.lastU = d.u;
    b.first = false;
  }

  private pushBook(symbol: string, r: Omit<BookEvent, 'kind' | 'symbol' | 'seq'>, updateId: bigint): void {
    this.rows.push({ kind: 'book', symbol, seq: this.nextSeq('book', symbol), ...r, updateId });
  }

  /** Facts about the book that did not end as it should. */
  finish(): void {
    if (this.pendingSnapshot) this.notes.push(`snapshot at ${this.pendingSnapshot.file} line ${this.pendingSnapshot.line} not applied: the stream names no symbol`);
    for (const [symbol, b] of this.books) {
      if (b.buffer.length > 0) this.notes.push(`${symbol}: ${b.buffer.length} depth diffs not applied (no snapshot after them)`);
    }
    if (this.coveredDiffs > 0) this.notes.push(`${this.coveredDiffs} depth diffs dropped: fully covered by the snapshot (u <= lastUpdateId)`);
    if (this.bufferedApplied > 0) this.notes.push(`${this.bufferedApplied} depth diffs received before the snapshot applied with ts_recv = the snapshot's receive time`);
    this.notes.push(this.gaps === 0 ? 'depth diffs: no U/u gap' : `depth diffs: ${this.gaps} U/u gaps (book resynchronised only at a later snapshot)`);
    for (const [stream, n] of this.ignoredStreams) this.notes.push(`${n} messages of stream ${stream} ignored (not modelled)`);
    this.notes.push(...this.symbols.notes());
    const q = quoteStateNote(this.rows);
    if (q) this.notes.push(q);
  }
}

/**
 * Imports a Binance capture (one file, or a directory of `.gz`/`.txt` files read in name order as
 * one stream) into the catalog at `outDir`, with heartbeats over the captured span.
 */
export async function importBinance(inPath: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const files = listInputs(inPath, INPUT_RE, 'Binance capture (.gz or .txt)');
  const rejects = newRejects(opts.onError);
  const run = new BinanceRun(rejects, opts.symbol);
  for (const file of files) {
    for (const { line, text } of readTextLines(file)) {
      try {
        run.line({ file, line }, text);
      } catch (e) {
        if (!(e instanceof RowProblem)) throw e;
        rejectRow(rejects, { file, line, field: e.field, value: e.value, reason: e.reason });
      }
    }
  }
  run.finish();
  const rows: CatalogRow[] = run.rows;
  for (const h of heartbeatsCovering(rows)) rows.push(h);
  const written = writeCatalog(outDir, rows, { rowGroupSize: opts.rowGroupSize, session: 'utc' });
  return { format: 'binance', files: written, events: countByKind(rows), rejected: rejects.count, rejectedSample: rejects.sample, notes: run.notes };
}
