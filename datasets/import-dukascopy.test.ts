import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Kind, MarketEvent, QuoteEvent } from '../core/events.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { ImportReport } from './import-report.ts';
import { dukascopySymbol, importDukascopy } from './import-dukascopy.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('importDukascopy on the real EURUSD ticks', 'fx_dukascopy_eurusd');
const dir = REAL.path('fx_dukascopy_eurusd');
const MS = 1_000_000n;
const SEC = 1_000_000_000n;

async function readBack(files: string[], kind: Kind): Promise<MarketEvent[]> {
  const out: MarketEvent[] = [];
  for (const f of files.filter((f) => f.includes(`${path.sep}${kind}${path.sep}`))) {
    const src = await openParquet(f);
    let row = 0;
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g);
      for (const e of decodeEvents(kind, t, f, row)) out.push(e);
      row += t.numRows;
    }
  }
  return out;
}

describe.skipIf(!REAL.present)('importDukascopy on the real EURUSD ticks', () => {
  let out: string;
  let report: ImportReport;
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'lockstep-duk-'));
    report = await importDukascopy(dir, out);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('imports all 266,219 ticks as EURUSD quotes, one partition per UTC day', async () => {
    expect(report.events.quote).toBe(266_219);
    expect(report.rejected).toBe(0);
    expect(report.files.map((f) => path.relative(out, f)).sort()).toEqual([
      path.join('heartbeat', '2019-02-04', '_.parquet'),
      path.join('heartbeat', '2019-02-05', '_.parquet'),
      path.join('quote', '2019-02-04', 'EURUSD.parquet'),
      path.join('quote', '2019-02-05', 'EURUSD.parquet'),
    ]);
    const quotes = (await readBack(report.files, 'quote')) as QuoteEvent[];
    expect(quotes.length).toBe(266_219);
    expect(quotes.every((q) => q.symbol === 'EURUSD')).toBe(true);
    // first CSV row: 1549238400994,1.14543,1.14545,2.06,1 (sizes in millions, as given)
    expect(quotes[0]).toMatchObject({ seq: 1n, tsEvent: 1549238400994n * MS, tsRecv: 1549238400994n * MS, bidPx: 1.14543, askPx: 1.14545, bidSz: 2.06, askSz: 1 });
    for (let i = 0; i < quotes.length; i++) if (quotes[i].seq !== BigInt(i + 1)) throw new Error(`row ${i} has seq ${quotes[i].seq}`);
    expect(report.notes.join(' ')).toMatch(/millions/);
  });

  it('writes one heartbeat per second over the span', async () => {
    const beats = await readBack(report.files, 'heartbeat');
    expect(beats.length).toBe(report.events.heartbeat);
    expect(beats[0].tsRecv).toBe(1549238401n * SEC);
    expect(beats[0].seq).toBe(1549238401n);
    // the last tick is before 2019-02-05T23:59:59.999Z
    expect(beats[beats.length - 1].tsRecv).toBeLessThanOrEqual(1549411199n * SEC);
    expect(BigInt(beats.length)).toBe(beats[beats.length - 1].tsRecv / SEC - 1549238401n + 1n);
  });
});

describe('importDukascopy on malformed rows', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-duk-bad-'));
    const lines = [
      'ts_utc_ms,bid,ask,bid_volume_m,ask_volume_m',
      '1549238400994,1.14543,1.14545,2.06,1', // line 2: good
      '1549238401271,1.14544,1.14546,1', // line 3: wrong column count
      '1549238401464,x1.1,1.14545,8.35,1', // line 4: non-numeric bid
      '1549238401704,1.14543,1.14546,-1.25,1', // line 5: negative size
      'yesterday,1.14543,1.14546,1.25,1', // line 6: unparsable time
      '1549238401900,1.14543,1.14547,1.25,1', // line 7: good
    ];
    writeFileSync(path.join(tmp, 'EURUSD_bad_ticks.csv.gz'), gzipSync(lines.join('\r\n') + '\r\n'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('takes the symbol from the file name', () => {
    expect(dukascopySymbol('/x/EURUSD_2019-02-04_05_ticks.csv.gz')).toBe('EURUSD');
  });

  it('fails on the first malformed row by default', async () => {
    const err = await importDukascopy(tmp, path.join(tmp, 'out-fail')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file: path.join(tmp, 'EURUSD_bad_ticks.csv.gz'), row: 3, rowLabel: 'line', field: '(row)' });
    expect((err as InputError).message).toMatch(/line 3/);
  });

  it('with onError skip, counts and samples the bad rows', async () => {
    const r = await importDukascopy(tmp, path.join(tmp, 'out-skip'), { onError: 'skip' });
    expect(r.rejected).toBe(4);
    expect(r.rejectedSample.map((x) => [x.line, x.field, x.value])).toEqual([
      [3, '(row)', '1549238401271,1.14544,1.14546,1'],
      [4, 'bid', 'x1.1'],
      [5, 'bid_volume_m', '-1.25'],
      [6, 'ts_utc_ms', 'yesterday'],
    ]);
    const quotes = (await readBack(r.files, 'quote')) as QuoteEvent[];
    expect(quotes.map((q) => [q.seq, q.askPx])).toEqual([[1n, 1.14545], [2n, 1.14547]]);
  });
});
