import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BookEvent, Kind, MarketEvent, QuoteEvent, TradeEvent } from '../core/events.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { ImportReport } from './import-report.ts';
import { importLobster } from './import-lobster.ts';
import { easternToUtcNs } from './us-eastern.ts';
import { readZipEntries } from './zip-reader.ts';
import { realData } from '../testing/real-data.ts';
import { storedZip } from '../testing/stored-zip.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('importLobster on the real 2012-06-21 samples', 'equity_lobster');
const dir = REAL.path('equity_lobster');
/** 2012-06-21 13:30:00 UTC (09:30 EDT), epoch ns. */
const OPEN_NS = 1_340_285_400n * 1_000_000_000n;

/** Every event of one kind and symbol in the written files, in seq order, with a string extra. */
async function readBack(files: string[], kind: Kind, symbol: string, extra?: string): Promise<{ events: MarketEvent[]; extras: (string | null)[] }> {
  const events: MarketEvent[] = [];
  const extras: (string | null)[] = [];
  for (const f of files.filter((f) => f.includes(`${path.sep}${kind}${path.sep}`) && path.basename(f) === `${symbol}.parquet`)) {
    const src = await openParquet(f);
    let row = 0;
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g);
      for (const e of decodeEvents(kind, t, f, row)) events.push(e);
      if (extra) for (let i = 0; i < t.numRows; i++) extras.push(t.getChild(extra)!.get(i) as string | null);
      row += t.numRows;
    }
  }
  const order = [...events.keys()].sort((a, b) => (events[a].seq < events[b].seq ? -1 : 1));
  return { events: order.map((i) => events[i]), extras: extras.length ? order.map((i) => extras[i]) : [] };
}

function expectContiguousSeq(events: MarketEvent[]): void {
  events.forEach((e, i) => expect(e.seq).toBe(BigInt(i + 1)));
}

const csv = (zip: string, part: string) =>
  readZipEntries(zip, (n) => n.includes(part))[0].data.toString('utf8').trim().split('\n').map((l) => l.split(',').map(Number));

describe.skipIf(!REAL.present)('importLobster on the real 2012-06-21 samples', () => {
  let out: string;
  let report: ImportReport;
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'lockstep-lobster-'));
    report = await importLobster(dir, out, { rowGroupSize: 100_000 });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes one trade per execution (visible + hidden) with exact times and sides', async () => {
    expect(report.rejected).toBe(0);
    expect(report.events.trade).toBe(7_765 + 3_913 + 23_658 + 11_332);
    const goog = await readBack(report.files, 'trade', 'GOOG', 'conditions');
    const aapl = await readBack(report.files, 'trade', 'AAPL', 'conditions');
    expect(goog.events.length).toBe(7_765 + 3_913);
    expect(aapl.events.length).toBe(23_658 + 11_332);
    expectContiguousSeq(goog.events);
    expect(goog.extras.filter((c) => c === 'hidden').length).toBe(3_913);
    expect(aapl.extras.filter((c) => c === 'hidden').length).toBe(11_332);
    // GOOG line 1: 34200.015105074,4,15818974,4,5794000,1 — a buy order executed: seller-initiated.
    // 34200.015105074 s after midnight EDT = 13:30:00.015105074 UTC.
    expect(goog.events[0]).toEqual({ kind: 'trade', tsEvent: OPEN_NS + 15_105_074n, tsRecv: OPEN_NS + 15_105_074n, symbol: 'GOOG', seq: 1n, price: 579.4, size: 4, side: -1 });
    expect(goog.extras[0]).toBeNull();
    // AAPL: 34200.275016159,4,5740544,40,5857400,-1 — a sell order executed: buyer-initiated.
    expect(aapl.events[0]).toMatchObject({ tsEvent: 1_340_285_400_275_016_159n, price: 585.74, size: 40, side: 1 });
  });

  it('writes a quote per level-1 change and a book whose rows rebuild the orderbook file', async () => {
    const zip = path.join(dir, 'LOBSTER_SampleFile_GOOG_2012-06-21_10.zip');
    const msgs = csv(zip, '_message_');
    const ob = csv(zip, '_orderbook_');
    let l1Changes = 0;
    for (let i = 0; i < ob.length; i++) if (i === 0 || ob[i].slice(0, 4).some((v, k) => v !== ob[i - 1][k])) l1Changes++;
    const quotes = (await readBack(report.files, 'quote', 'GOOG')).events as QuoteEvent[];
    expect(quotes.length).toBe(l1Changes);
    expectContiguousSeq(quotes);
    expect(quotes[0]).toMatchObject({ askPx: 580.23, askSz: 100, bidPx: 579.4, bidSz: 496, tsRecv: OPEN_NS + 15_105_074n });

    const book = (await readBack(report.files, 'book', 'GOOG')).events as BookEvent[];
    expectContiguousSeq(book);
    expect(book.filter((b) => b.snapshot).length).toBe(20);
    expect(book.filter((b) => b.snapshot && b.last).length).toBe(1);
    const times = readZipEntries(zip, (n) => n.includes('_message_'))[0].data.toString('utf8').trim().split('\n').map((l) => l.slice(0, l.indexOf(',')));
    const tsOf = (i: number) => easternToUtcNs('2012-06-21', times[i]);
    // Replay book rows up to the end of sampled instants (the last message of a timestamp) and
    // compare both sides with the orderbook file's row there.
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let k = 0;
    let checked = 0;
    for (let i = 0; i < msgs.length; i++) {
      const endOfInstant = i === msgs.length - 1 || msgs[i + 1][0] !== msgs[i][0];
      if (!endOfInstant || (i % 4_999 !== 0 && i !== msgs.length - 1 && i > 3)) continue;
      const next = i === msgs.length - 1 ? null : tsOf(i + 1);
      while (k < book.length && (next === null || book[k].tsRecv < next)) {
        const b = book[k++];
        const side = b.side === 1 ? bids : asks;
        if (b.size === 0) side.delete(b.price);
        else side.set(b.price, b.size);
      }
      const expectAsks = new Map<number, number>();
      const expectBids = new Map<number, number>();
      for (let l = 0; l < 10; l++) {
        const [ap, as, bp, bs] = ob[i].slice(4 * l, 4 * l + 4);
        if (as > 0) expectAsks.set(ap / 10_000, as);
        if (bs > 0) expectBids.set(bp / 10_000, bs);
      }
      expect(new Map([...asks].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...expectAsks].sort((a, b) => a[0] - b[0])));
      expect(new Map([...bids].sort((a, b) => b[0] - a[0]))).toEqual(new Map([...expectBids].sort((a, b) => b[0] - a[0])));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    console.log(`lobster GOOG book: ${checked} sampled rows rebuilt exactly`);
    expect(k).toBe(book.length);
  });

  it('notes the halts and writes heartbeats over the session', () => {
    expect(report.notes).toContain(
      'GOOG 2012-06-21 (level 10): 147916 messages → 11678 trades, 45569 quotes, 233581 book rows; 0 trading-halt messages (type 7: 0 halt, 0 quoting, 0 resume)',
    );
    // first message 09:30:00.004 EDT, last just before 16:00: whole seconds 09:30:01 .. 15:59:59
    expect(report.events.heartbeat).toBe(23_399);
  });
});

describe('importLobster on hand-made archives', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-lobster-small-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const base = 'TEST_2012-01-03_34200000_57600000';
  // level 2; the empty second bid level holds LOBSTER's dummy -9999999999 / 0
  const messages = ['34200.5,1,1,100,1010000,-1', '34201,1,2,50,1000000,1', '34201.000000001,4,1,40,1010000,-1', '34202,7,0,0,-1,-1', '34203,3,2,50,1000000,1'];
  const books = [
    '1010000,100,990000,10,9999999999,0,-9999999999,0',
    '1010000,100,1000000,50,9999999999,0,990000,10',
    '1010000,60,1000000,50,9999999999,0,990000,10',
    '1010000,60,1000000,50,9999999999,0,990000,10',
    '1010000,60,990000,10,9999999999,0,-9999999999,0',
  ];
  const makeZip = (name: string, msgs: string[], obs: string[]) => {
    const file = path.join(tmp, name);
    writeFileSync(file, storedZip([{ name: `${base}_message_2.csv`, text: msgs.join('\n') + '\n' }, { name: `${base}_orderbook_2.csv`, text: obs.join('\n') + '\n' }]));
    return file;
  };

  it('converts an EST day, diffs book rows, skips dummy levels and counts the halt', async () => {
    const zip = makeZip('ok.zip', messages, books);
    const report = await importLobster(zip, path.join(tmp, 'out-ok'));
    expect(report.events).toEqual({ trade: 1, quote: 4, book: 2 + 1 + 1 + 1, heartbeat: 3 });
    expect(report.notes[0]).toContain('1 trading-halt messages (type 7: 1 halt, 0 quoting, 0 resume)');
    const [t] = (await readBack(report.files, 'trade', 'TEST')).events as TradeEvent[];
    // 2012-01-03 is EST: 09:30:01.000000001 = 14:30:01.000000001 UTC
    expect(t).toMatchObject({ tsRecv: 1_325_601_001_000_000_001n, price: 101, size: 40, side: 1 });
    const book = (await readBack(report.files, 'book', 'TEST')).events as BookEvent[];
    expect(book.map((b) => [b.seq, b.side, b.price, b.size, b.snapshot, b.last])).toEqual([
      [1n, 1, 99, 10, true, false],
      [2n, -1, 101, 100, true, true],
      [3n, 1, 100, 50, false, true],
      [4n, -1, 101, 60, false, true],
      [5n, 1, 100, 0, false, true],
    ]);
    // the halt row duplicates the book: no book rows, no quote
    expect(book.map((b) => b.tsRecv - 1_325_601_000_000_000_000n)).toEqual([500_000_000n, 500_000_000n, 1_000_000_000n, 1_000_000_001n, 3_000_000_000n]);
  });

  it('fails on a malformed row naming file, line, field and value; skip counts it', async () => {
    const bad = [...messages];
    bad[2] = '34201.000000001,4,1,40,10x0000,-1';
    const zip = makeZip('bad.zip', bad, books);
    const err = await importLobster(zip, path.join(tmp, 'out-bad')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file: `${zip}!${base}_message_2.csv`, row: 3, rowLabel: 'line', field: 'price', value: '10x0000' });
    expect((err as Error).message).toBe(`${zip}!${base}_message_2.csv, line 3, field price: is not an integer (value "10x0000")`);

    const badBook = [...books];
    badBook[1] = '1010000,100,1000000,-50,9999999999,0,990000,10';
    const zip2 = makeZip('bad2.zip', bad, badBook);
    const report = await importLobster(zip2, path.join(tmp, 'out-skip'), { onError: 'skip' });
    expect(report.rejected).toBe(2);
    expect(report.rejectedSample.map((r) => [path.basename(r.file), r.line, r.field, r.value])).toEqual([
      [`bad2.zip!${base}_orderbook_2.csv`, 2, 'bid_sz_1', '-50'],
      [`bad2.zip!${base}_message_2.csv`, 3, 'price', '10x0000'],
    ]);
    expect(report.events.trade).toBeUndefined();
    // the surviving rows still diff exactly against the last good book row
    const book = (await readBack(report.files, 'book', 'TEST')).events as BookEvent[];
    expect(book.map((b) => [b.side, b.price, b.size, b.snapshot, b.last])).toEqual([
      [1, 99, 10, true, false],
      [-1, 101, 100, true, true],
      [1, 100, 50, false, false],
      [-1, 101, 60, false, true],
      [1, 100, 0, false, true],
    ]);
  });

  it('refuses an archive whose orderbook has another row count', async () => {
    const zip = makeZip('short.zip', messages, books.slice(0, 4));
    await expect(importLobster(zip, path.join(tmp, 'out-short'))).rejects.toThrow(/orderbook_2\.csv: has 4 rows but the message file has 5/);
  });
});
