import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Kind, MarketEvent, QuoteEvent, TradeEvent } from '../core/events.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { ImportReport } from './import-report.ts';
import { importTaq } from './import-taq.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('importTaq on the real highfrequency sample', 'equity_taq_highfrequency');
const dir = REAL.path('equity_taq_highfrequency');
const MS = 1_000_000n;

/** Every event of one kind in the written files, with the string extras of each row. */
async function readBack(files: string[], kind: Kind, extra?: string): Promise<{ events: MarketEvent[]; extras: (string | null)[] }> {
  const events: MarketEvent[] = [];
  const extras: (string | null)[] = [];
  for (const f of files.filter((f) => f.includes(`${path.sep}${kind}${path.sep}`))) {
    const src = await openParquet(f);
    let row = 0;
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g);
      for (const e of decodeEvents(kind, t, f, row)) events.push(e);
      if (extra) for (let i = 0; i < t.numRows; i++) extras.push(t.getChild(extra)!.get(i) as string | null);
      row += t.numRows;
    }
  }
  return { events, extras };
}

const csvRows = (file: string) => gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').slice(1).map((l) => l.split(','));

describe.skipIf(!REAL.present)('importTaq on the real highfrequency sample', () => {
  let out: string;
  let report: ImportReport;
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'lockstep-taq-'));
    report = await importTaq(dir, out, { rowGroupSize: 50_000 });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('imports every trade but the corrections, and every quote', () => {
    expect(report.events.trade).toBe(77_263 - 2);
    expect(report.events.quote).toBe(131_401);
    expect(report.notes[0]).toBe('2 trade correction rows (CORR != 0) left out');
    expect(report.rejected).toBe(0);
    // 04:04 ET on Jan 2 to 19:57 ET on Jan 3 is 00:57 UTC on Jan 4: three UTC date partitions
    expect(report.files.filter((f) => f.includes(`${path.sep}trade${path.sep}`)).map((f) => path.basename(path.dirname(f))).sort()).toEqual(['2018-01-02', '2018-01-03', '2018-01-04']);
  });

  it('keeps trades in file order (seq) with exact times, side 0, shares, exchange and conditions', async () => {
    const { events, extras } = await readBack(report.files, 'trade', 'exchange');
    const trades = events as TradeEvent[];
    expect(trades.length).toBe(77_261);
    const bySeq = [...trades.keys()].sort((a, b) => Number(trades[a].seq - trades[b].seq));
    const expected = csvRows(path.join(dir, 'XXX_2018-01-02_03_trades_raw.csv.gz')).filter((f) => f[7] === '0');
    for (let i = 0; i < expected.length; i++) {
      const e = trades[bySeq[i]];
      const f = expected[i];
      if (e.seq !== BigInt(i + 1) || e.tsEvent !== BigInt(f[0]) * MS || e.tsRecv !== e.tsEvent || e.price !== Number(f[6]) || e.size !== Number(f[5]) || e.side !== 0 || extras[bySeq[i]] !== f[2]) {
        expect({ i, e, extra: extras[bySeq[i]] }).toEqual({ i, expected: f });
      }
    }
    expect(trades[bySeq[0]]).toMatchObject({ symbol: 'XXX', tsEvent: 1514887281479n * MS, price: 157.8, size: 2, side: 0 });
    const first = await readBack([report.files.find((f) => f.includes(`${path.sep}trade${path.sep}2018-01-02`))!], 'trade', 'conditions');
    expect(first.extras[0]).toBe('FTI');
  });

  it('converts quote sizes from round lots to shares and keeps one-sided quotes', async () => {
    const { events, extras } = await readBack(report.files, 'quote', 'exchange');
    const quotes = events as QuoteEvent[];
    expect(quotes.length).toBe(131_401);
    const i0 = quotes.findIndex((q) => q.seq === 1n);
    expect(quotes[i0]).toMatchObject({ tsRecv: 1514883853125n * MS, bidPx: 156.57, bidSz: 100, askPx: 158.85, askSz: 100 });
    expect(extras[i0]).toBe('P');
    const oneSided = quotes.find((q) => q.tsRecv === 1514903819866n * MS)!;
    expect(oneSided).toMatchObject({ bidPx: 0, bidSz: 0, askPx: 159.03, askSz: 100 });
    // seq rises with time, so core's sequence guard never sees a "duplicate"
    const sorted = [...quotes].sort((a, b) => Number(a.seq - b.seq));
    for (let i = 1; i < sorted.length; i++) if (sorted[i].tsRecv < sorted[i - 1].tsRecv) throw new Error(`seq ${i} goes back in time`);
  });

  it('writes one heartbeat per second over the imported span', async () => {
    const { events } = await readBack(report.files, 'heartbeat');
    const lo = 1514883853125n * MS; // first quote
    const hi = events[events.length - 1].tsRecv;
    expect(events.length).toBe(report.events.heartbeat);
    expect(events[0].tsRecv).toBe(1514883854n * 1_000_000_000n);
    expect(events.every((e) => e.tsRecv >= lo && e.tsRecv % 1_000_000_000n === 0n)).toBe(true);
    expect(BigInt(events.length)).toBe((hi - events[0].tsRecv) / 1_000_000_000n + 1n);
  });
});

describe('importTaq on malformed rows', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-taq-bad-'));
    const lines = [
      'ts_utc_ms,time_new_york,EX,SYMBOL,COND,SIZE,PRICE,CORR',
      '1514887281479,2018-01-02T05:01:21.479,P,XXX,FTI,2,157.8,0', // line 2: good
      '1514887281480,2018-01-02T05:01:21.480,P,XXX,FTI,2,abc,0', // line 3: non-numeric price
      '1514887281481,2018-01-02T05:01:21.481,P,XXX,FTI,2', // line 4: wrong column count
      '1514887281482,2018-01-02T05:01:21.482,P,XXX,FTI,-5,157.8,0', // line 5: negative size
      '2018-01-02 05:01,2018-01-02T05:01:21.483,P,XXX,FTI,2,157.8,0', // line 6: unparsable time
      '1514887281484,2018-01-02T05:01:21.484,P,XXX,FTI,3,157.9,0', // line 7: good
    ];
    writeFileSync(path.join(tmp, 'BAD_trades_raw.csv.gz'), gzipSync(lines.join('\n') + '\n'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('fails on the first malformed row by default, naming file, line, field and value', async () => {
    const err = await importTaq(tmp, path.join(tmp, 'out-fail')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file: path.join(tmp, 'BAD_trades_raw.csv.gz'), row: 3, rowLabel: 'line', field: 'PRICE', value: 'abc' });
    expect(existsSync(path.join(tmp, 'out-fail'))).toBe(false);
  });

  it('with onError skip, counts and samples the bad rows and imports the rest', async () => {
    const r = await importTaq(path.join(tmp, 'BAD_trades_raw.csv.gz'), path.join(tmp, 'out-skip'), { onError: 'skip' });
    expect(r.rejected).toBe(4);
    expect(r.rejectedSample.map((x) => [x.line, x.field, x.value])).toEqual([
      [3, 'PRICE', 'abc'],
      [4, '(row)', '1514887281481,2018-01-02T05:01:21.481,P,XXX,FTI,2'],
      [5, 'SIZE', '-5'],
      [6, 'ts_utc_ms', '2018-01-02 05:01'],
    ]);
    expect(r.events.trade).toBe(2);
    const { events } = await readBack(r.files, 'trade');
    expect(events.map((e) => [e.seq, (e as TradeEvent).price])).toEqual([[1n, 157.8], [2n, 157.9]]);
  });
});
