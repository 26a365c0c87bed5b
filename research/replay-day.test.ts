/**
 * replayDay returns what `runReplay` writes (the same fold, not a second one), and arquero tables
 * made with toArquero keep nanoseconds exact, where `aq.fromArrow` on the raw table would not.
 */
import { makeData, makeVector, Table, TimestampNanosecond, Utf8, vectorFromArray } from 'apache-arrow';
import * as aq from 'arquero';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { arqueroReady, toArquero } from './arquero.ts';
import { historicalFeatures } from './historical-features.ts';
import { replayDay } from './replay-day.ts';

const DATE = '2024-03-15';
const TS = 1710509400123456789n;

describe('toArquero', () => {
  const t = new Table({
    symbol: vectorFromArray(['A', 'B'], new Utf8()),
    ts: makeVector(makeData({ type: new TimestampNanosecond('UTC'), length: 2, data: BigInt64Array.of(TS, TS + 1n) })),
  });

  it(`keeps ${TS} exact through arquero, where aq.fromArrow on the raw Arrow table does not`, () => {
    const dt = toArquero(t);
    expect(dt.get('ts', 0)).toBe(TS);
    expect(dt.get('ts', 1)).toBe(TS + 1n);
    // verbs see BigInts: a filter 1 ns apart keeps one row, a derived difference is exact
    expect(dt.filter(aq.escape((d: { ts: bigint }) => d.ts > TS)).numRows()).toBe(1);
    expect(dt.derive({ gap: aq.escape((d: { ts: bigint }) => d.ts - TS) }).array('gap')).toEqual([0n, 1n]);
    // arrow-js reads a timestamp as float milliseconds: why toArquero exists
    expect(aq.fromArrow(t as unknown as Parameters<typeof aq.fromArrow>[0]).get('ts', 0)).not.toBe(TS);
    expect(arqueroReady(t).getChild('ts')!.get(0)).toBe(TS);
    expect(dt.get('symbol', 1)).toBe('B');
  });
});

describe('replayDay', () => {
  let dir: string;
  let catalog: string;
  let viaFile: FactorTable;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-rd-test-'));
    catalog = join(dir, 'catalog');
    await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: catalog });
    await runReplay({ catalog, date: DATE, out: join(dir, 'f.parquet'), symbols: ['SYM001'], progress: false });
    viaFile = await readFactorTable(join(dir, 'f.parquet'));
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("returns the replay's factor table as Arrow, exact, with its metadata, and leaves no file behind", async () => {
    let rows = 0;
    const temps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('lockstep-replay-day-')).length;
    const before = temps();
    const t = await replayDay({ catalog, date: DATE, symbols: ['SYM001'], onSummary: (s) => (rows = s.rows) });
    expect(t.numRows).toBe(viaFile.tsRecv.length);
    expect(rows).toBe(t.numRows);
    expect(temps()).toBe(before);
    expect(t.schema.fields.map((f) => f.name)).toEqual(viaFile.columns);
    expect(JSON.parse(t.schema.metadata.get('lockstep')!).featureSetVersion).toBe(JSON.parse(viaFile.metadata.get('lockstep')!).featureSetVersion);
    const dt = toArquero(t);
    expect(dt.array('ts_recv')).toEqual(viaFile.tsRecv);
    expect(dt.array('seq')).toEqual(viaFile.seq);
    for (const c of ['mid', 'rsi_14', 'vwap_session']) expect(dt.array(c)).toEqual(viaFile.values[c]);
    // and it is a factor table historicalFeatures takes as it is
    const at = viaFile.tsRecv[viaFile.tsRecv.length - 1];
    const ent = new Table({ symbol: vectorFromArray(['SYM001'], new Utf8()), ts: makeVector(makeData({ type: new TimestampNanosecond('UTC'), length: 1, data: BigInt64Array.of(at) })) });
    expect((await historicalFeatures(ent, t, { features: ['mid'] })).getChild('mid')!.get(0)).toBe(viaFile.values.mid.at(-1));
  });

  it('says what is wrong with the selection', async () => {
    await expect(replayDay({ catalog, date: '2024-03-16' })).rejects.toThrow(UsageError);
    await expect(replayDay({ catalog, date: DATE, symbols: ['NOPE'] })).rejects.toThrow(/--symbols NOPE: not in the catalog/);
  });
});
