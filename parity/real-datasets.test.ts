/**
 * The parity run (replay vs a private Redis with live worker processes) on every real dataset in
 * ../shared/data/real, after import: recorded market data that no generator wrote.
 *
 * - Binance BTCUSDT (trades, book ticker, L2 book), LOBSTER AAPL + GOOG (both zips: trades,
 *   quotes, a 10-level and a 1-level book), TAQ (trades and per-exchange quotes), Dukascopy EURUSD
 *   (quotes only): each on one date, restricted to a time window (both paths read the same
 *   selection) so the file stays around a minute or two on a 2-core CI machine. The windows are
 *   long enough to warm the 60-minute factors where the data has trades every minute.
 * - SEC fundamentals carry no prices. They run twice: paired with the LOBSTER day in one catalog
 *   (AAPL's quarterly numbers announced before 2012-06-21 join the AAPL trades, so PER and PBR
 *   have real values; TSLA's announcements are all later than that day), with two workers and two
 *   SIGKILLs; and alone, all 91 announcements (and the 4 splits derived from them) up to the last date.
 *
 * Skipped, with a message, when the real-data folder is not there ($LOCKSTEP_REAL_DATA, else
 * ../shared/data/real: testing/real-data.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBinance } from '../datasets/import-binance.ts';
import { importDukascopy } from '../datasets/import-dukascopy.ts';
import { importLobster } from '../datasets/import-lobster.ts';
import { importSec } from '../datasets/import-sec.ts';
import { importTaq } from '../datasets/import-taq.ts';
import { catalogDates } from '../replay/catalog.ts';
import { runParity, type Certificate } from './run-parity.ts';
import { realData } from '../testing/real-data.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REAL_DATA = realData('parity run on the real datasets (replay vs Redis + live workers)');
const REAL = REAL_DATA.dir;
const HAVE_REAL = REAL_DATA.present;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-real-parity-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Imports into a fresh catalog; returns it and how many events were written. */
async function importInto(name: string, steps: ((out: string) => Promise<{ events: Record<string, number> }>)[]): Promise<{ catalog: string; events: number; ms: number }> {
  const catalog = join(dir, name);
  const t0 = performance.now();
  let events = 0;
  for (const step of steps) events += Object.values((await step(catalog)).events).reduce((a, b) => a + Number(b), 0);
  return { catalog, events, ms: performance.now() - t0 };
}

function expectParity(cert: Certificate): void {
  expect(cert.diff.mismatchedCells).toBe(0);
  expect(cert.diff.onlyInA).toBe(0);
  expect(cert.diff.onlyInB).toBe(0);
  expect(cert.diff.columnsOnlyInA.length + cert.diff.columnsOnlyInB.length).toBe(0);
  expect(cert.servedLatest.mismatched).toBe(0);
  expect(cert.outputs.liveTableHash).toBe(cert.outputs.replayTableHash);
  expect(cert.verdict).toBe('parity');
}

async function parity(label: string, opts: Parameters<typeof runParity>[0]): Promise<Certificate> {
  const t0 = performance.now();
  const cert = await runParity(opts);
  const s = (performance.now() - t0) / 1000;
  const window = opts.from ? ` ${opts.from}-${opts.to} UTC` : ' whole day';
  console.log(`[real-datasets] ${label} ${opts.date}${window}: ${cert.diff.rowsA.toLocaleString('en-US')} replay rows, ${cert.outputs.rows.toLocaleString('en-US')} live rows, ${cert.diff.mismatchedCells} mismatched cells, ${cert.diff.onlyInA}/${cert.diff.onlyInB} only in replay/live, ${cert.inputs.length} input files, workers ${cert.scenario.workers}, chaos ${cert.scenario.chaos}; ${s.toFixed(1)} s`);
  return cert;
}

describe.skipIf(!HAVE_REAL)('parity run on the real datasets (replay vs Redis + live workers)', () => {
  it('Binance BTCUSDT 2024-08-09 00:00-00:02: trades, book ticker and the L2 book', async () => {
    const { catalog, events, ms } = await importInto('binance', [(o) => importBinance(join(REAL, 'crypto_binance_btcusdt'), o)]);
    console.log(`[real-datasets] binance: imported ${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s`);
    const cert = await parity('binance', { catalog, date: '2024-08-09', from: '00:00', to: '00:02' });
    expectParity(cert);
    expect(cert.scenario).toMatchObject({ from: '00:00', to: '00:02' });
    expect(cert.diff.rowsA).toBeGreaterThan(50_000);
  });

  it('LOBSTER AAPL + GOOG 2012-06-21 16:00-17:15 with the SEC fundamentals, two workers and two SIGKILLs', async () => {
    const { catalog, events, ms } = await importInto('lobster-sec', [
      (o) => importLobster(join(REAL, 'equity_lobster'), o),
      (o) => importSec(join(REAL, 'fundamentals_sec'), o),
    ]);
    console.log(`[real-datasets] lobster + sec: imported ${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s`);
    const cert = await parity('lobster + sec', { catalog, date: '2012-06-21', from: '16:00', to: '17:15', workers: 2, killN: 2 });
    expectParity(cert);
    expect(cert.scenario).toMatchObject({ workers: 2, chaos: 'kill:2' });
    // AAPL and GOOG; TSLA's first announcement in the file is from 2013, after this day
    expect(cert.servedLatest.symbols).toBe(2);
    expect(cert.inputs.filter((f) => f.path.includes(`${join('fundamental', '')}`)).length).toBeGreaterThan(10);
    expect(cert.diff.rowsA).toBeGreaterThan(50_000);
  });

  it('TAQ XXX 2018-01-03 14:30-16:00 (09:30-11:00 ET): trades and per-exchange quotes', async () => {
    const { catalog, events, ms } = await importInto('taq', [(o) => importTaq(join(REAL, 'equity_taq_highfrequency'), o)]);
    console.log(`[real-datasets] taq: imported ${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s`);
    const cert = await parity('taq', { catalog, date: '2018-01-03', from: '14:30', to: '16:00' });
    expectParity(cert);
    expect(cert.diff.rowsA).toBeGreaterThan(20_000);
  });

  it('Dukascopy EURUSD 2019-02-04 08:00-09:30: quotes only', async () => {
    const { catalog, events, ms } = await importInto('dukascopy', [(o) => importDukascopy(join(REAL, 'fx_dukascopy_eurusd'), o)]);
    console.log(`[real-datasets] dukascopy: imported ${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s`);
    const cert = await parity('dukascopy', { catalog, date: '2019-02-04', from: '08:00', to: '09:30' });
    expectParity(cert);
    expect(cert.diff.rowsA).toBeGreaterThan(10_000);
  });

  it('SEC fundamentals alone: every AAPL and TSLA announcement, replayed on the last date', async () => {
    const { catalog, events, ms } = await importInto('sec', [(o) => importSec(join(REAL, 'fundamentals_sec'), o)]);
    console.log(`[real-datasets] sec: imported ${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(1)} s`);
    const last = catalogDates(catalog).at(-1)!;
    const cert = await parity('sec', { catalog, date: last });
    expectParity(cert);
    // the last date's file plus every earlier date's fundamentals: all of them, one row each
    expect(cert.diff.rowsA).toBe(events);
    expect(cert.servedLatest.symbols).toBe(2);
  });
});
