/**
 * historicalFeatures: the rule on hand-made tables (ties, unsorted input, unknown symbols), the
 * matcher against a naive scan (property), and the whole join against DuckDB's ASOF JOIN on the
 * bundled synthetic day, cell for cell, with entity rows on exact ties, 1 ns either side of a
 * factor row, before a symbol's first row and for symbols the table does not have.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { Dictionary, Float64, Int32, makeData, makeVector, Table, TimestampMicrosecond, TimestampNanosecond, Utf8, vectorFromArray } from 'apache-arrow';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError, UserError } from '../core/errors.ts';
import { chance, intBelow, rngFor } from '../datasets/prng.ts';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { asOfMatch } from './as-of.ts';
import { asOfJoinSql, writeEntities, writeInt64TimesCopy } from './duckdb-reference.ts';
import { historicalFeatures } from './historical-features.ts';

const DATE = '2024-03-15';

const nanos = (xs: bigint[], type: TimestampNanosecond | TimestampMicrosecond = new TimestampNanosecond('UTC')) => makeVector(makeData({ type, length: xs.length, data: BigInt64Array.from(xs) }));
const floats = (xs: (number | null)[]) => vectorFromArray(xs, new Float64());
const strs = (xs: string[]) => vectorFromArray(xs, new Utf8());

/** A factor table in memory: symbol, ts_recv and one feature x. */
function factors(rows: [string, bigint, number | null][]): Table {
  return new Table({ symbol: strs(rows.map((r) => r[0])), ts_recv: nanos(rows.map((r) => r[1])), x: floats(rows.map((r) => r[2])) });
}

function entities(rows: [string, bigint][]): Table {
  return new Table({ symbol: strs(rows.map((r) => r[0])), ts: nanos(rows.map((r) => r[1])) });
}

const xs = (t: Table) => [...t.getChild('x')!] as (number | null)[];

describe('historicalFeatures: the rule', () => {
  it('takes the last row at or before ts, the last in table order on a tie, null when none', async () => {
    const f = factors([
      ['A', 10n, 1],
      ['A', 10n, 2],
      ['B', 5n, 4],
      ['A', 20n, null], // warming up: null is a value, not "no row"
      ['A', 30n, 5],
    ]);
    const e = entities([
      ['A', 9n],
      ['A', 10n],
      ['A', 15n],
      ['A', 20n],
      ['A', 29n],
      ['C', 100n],
      ['B', 1_000_000_000_000_000_000n],
      ['A', 30n],
    ]);
    const out = await historicalFeatures(e, f);
    expect(out.schema.fields.map((x) => x.name)).toEqual(['symbol', 'ts', 'x']);
    expect(xs(out)).toEqual([null, 2, 2, null, null, null, 4, 5]);
    expect([...out.getChild('symbol')!]).toEqual(['A', 'A', 'A', 'A', 'A', 'C', 'B', 'A']);
  });

  it('does not need the factor table in time order (files concatenated per symbol): ties still go to the later row', async () => {
    const f = factors([
      ['A', 30n, 3],
      ['A', 10n, 1],
      ['B', 7n, 7],
      ['A', 10n, 2],
      ['A', -5n, 0],
    ]);
    const out = await historicalFeatures(entities([['A', 10n], ['A', 29n], ['A', 31n], ['A', -5n], ['A', -6n], ['B', 7n]]), f);
    expect(xs(out)).toEqual([2, 2, 3, 0, null, 7]);
  });

  it('joins one entity table against two factor tables whose symbols come in another order', async () => {
    const dict = vectorFromArray(['A', 'B'], new Dictionary(new Utf8(), new Int32()));
    const e = new Table({ symbol: dict, ts: nanos([5n, 5n]) });
    expect(xs(await historicalFeatures(e, factors([['A', 1n, 1], ['B', 1n, 2]])))).toEqual([1, 2]);
    expect(xs(await historicalFeatures(e, factors([['B', 1n, 3], ['A', 1n, 4]])))).toEqual([4, 3]);
  });

  it('takes empty tables on either side', async () => {
    const none = await historicalFeatures(entities([]), factors([['A', 1n, 1]]));
    expect(none.numRows).toBe(0);
    expect(none.schema.fields.map((x) => x.name)).toEqual(['symbol', 'ts', 'x']);
    expect(xs(await historicalFeatures(entities([['A', 1n]]), factors([])))).toEqual([null]);
  });

  it('compares in nanoseconds whatever the entity time unit (microseconds here)', async () => {
    const f = factors([['A', 1_710_509_400_123_456_789n, 1], ['A', 1_710_509_400_123_457_000n, 2]]);
    const e = new Table({ symbol: strs(['A', 'A']), ts: nanos([1_710_509_400_123_456n, 1_710_509_400_123_457n], new TimestampMicrosecond('UTC')) });
    expect(xs(await historicalFeatures(e, f))).toEqual([null, 2]);
  });

  it('refuses what it cannot join, in one line naming the input and the field', async () => {
    const f = factors([['A', 1n, 1]]);
    await expect(historicalFeatures(new Table({ symbol: strs(['A']), when: nanos([1n]) }), f)).rejects.toThrow(UsageError);
    await expect(historicalFeatures(new Table({ symbol: strs(['A']), when: nanos([1n]) }), f)).rejects.toThrow(/entities: no ts column .*columns: symbol, when/);
    await expect(historicalFeatures(new Table({ symbol: strs(['A']), when: nanos([1n]) }), f, { tsColumn: 'when' })).resolves.toBeInstanceOf(Table);
    await expect(historicalFeatures(entities([['A', 1n]]), f, { features: ['y'] })).rejects.toThrow(/feature "y" is not a column of factor table; features: x/);
    await expect(historicalFeatures(new Table({ symbol: strs(['A']), ts: vectorFromArray([1n, null]) }), f)).rejects.toThrow(InputError);
    await expect(historicalFeatures(new Table({ symbol: strs(['A']), ts: floats([1]) }), f)).rejects.toThrow(/field ts.*must be a timestamp or an integer/);
    await expect(historicalFeatures(entities([['A', 1n]]), '/nonexistent/f.parquet')).rejects.toThrow(UserError);
    await expect(historicalFeatures(entities([['A', 1n]]), new Table({ symbol: strs(['A']), x: floats([1]) }))).rejects.toThrow(/no ts_recv column: not a factor table/);
    const withText = new Table({ symbol: strs(['A']), ts_recv: nanos([1n]), note: strs(['x']) });
    await expect(historicalFeatures(entities([['A', 1n]]), withText)).rejects.toThrow(/factor table, field note: feature columns must be numeric, not (Utf8|Dictionary)/);
  });
});

describe('the as-of matcher against a naive scan', () => {
  it('agrees on random tables (ties, unsorted rows, times far apart and negative)', () => {
    const time = fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.constantFrom(2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, -(2n ** 32n)));
    const row = fc.tuple(fc.integer({ min: -1, max: 3 }), time);
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.array(row, { maxLength: 40 }), fc.boolean(), (f, e, sorted) => {
        // sorted: the factor rows in time order as a whole (a replay's output), the sweep's case
        if (sorted) f = [...f].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
        const fSym = Int32Array.from(f, (r) => Math.max(r[0], 0));
        const fTs = BigInt64Array.from(f, (r) => r[1]);
        const eSym = Int32Array.from(e, (r) => r[0]);
        const eTs = BigInt64Array.from(e, (r) => r[1]);
        const got = asOfMatch(fSym, fTs, eSym, eTs, 4);
        const want = e.map(([s, t]) => {
          let best = -1;
          for (let r = 0; r < f.length; r++) if (fSym[r] === s && fTs[r] <= t && (best < 0 || fTs[r] >= fTs[best])) best = r;
          return best;
        });
        expect([...got]).toEqual(want);
      }),
      { numRuns: 600 },
    );
  });
});

describe('historicalFeatures against DuckDB ASOF JOIN (bundled synthetic day)', () => {
  let dir: string;
  let original: string;
  let copy: string;
  let entityFile: string;
  let table: FactorTable;
  let eSymbols: string[];
  let eTs: BigInt64Array;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-historical-'));
    const catalog = join(dir, 'catalog');
    await generateDay({ date: DATE, symbols: 5, seed: 7, preset: 'tiny', out: catalog });
    original = join(dir, 'factors.parquet');
    // small row groups: matches fall in many groups, and a group boundary can split a tie
    await runReplay({ catalog, date: DATE, out: original, progress: false, rowGroupSize: 5000 });
    copy = join(dir, 'factors-int64.parquet');
    await writeInt64TimesCopy(original, copy);
    table = await readFactorTable(original);

    // entity rows: at a factor row's ts_recv exactly, 1 ns before and after, random times in the
    // day, before everything, and symbols the table does not have
    const rng = rngFor(16, 2);
    const n = table.tsRecv.length;
    eSymbols = [];
    const ts: bigint[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = intBelow(rng, n);
      const kind = intBelow(rng, 6);
      eSymbols.push(chance(rng, 0.03) ? ['ZZZ', 'SYM999', ''][intBelow(rng, 3)] : table.symbol[r]);
      if (kind === 0) ts.push(table.tsRecv[r] - 1n);
      else if (kind === 1) ts.push(table.tsRecv[r] + 1n);
      else if (kind === 2) ts.push(table.tsRecv[0] - 1_000_000_000n + BigInt(intBelow(rng, 1000)));
      else if (kind === 3) ts.push(table.tsRecv[r] + BigInt(intBelow(rng, 1_000_000_000)));
      else ts.push(table.tsRecv[r]);
    }
    eTs = BigInt64Array.from(ts);
    entityFile = join(dir, 'entities.parquet');
    writeEntities(entityFile, eSymbols, eTs);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the day has what makes the check bite: ties on (symbol, ts_recv) and rows sharing a microsecond', () => {
    const keys = new Set(table.symbol.map((s, i) => `${s}/${table.tsRecv[i]}`));
    expect(table.tsRecv.length - keys.size).toBeGreaterThan(1000);
    const micros = new Set(table.symbol.map((s, i) => `${s}/${table.tsRecv[i] / 1000n}`));
    expect(micros.size).toBeLessThan(keys.size);
  });

  it('gives DuckDB ASOF JOIN values, cell for cell, on the same files', async () => {
    const ours = await historicalFeatures(entityFile, copy);
    const features = table.columns.filter((c) => !['symbol', 'source', 'seq', 'ts_event', 'ts_recv'].includes(c));
    expect(ours.schema.fields.map((f) => f.name)).toEqual(['symbol', 'ts', ...features]);

    const db = await DuckDBInstance.create();
    const con = await db.connect();
    const cols = (await con.runAndReadAll(asOfJoinSql(entityFile, copy, features))).getColumnsJS();
    con.closeSync();
    expect(cols[0].map(Number)).toEqual(Array.from({ length: eTs.length }, (_, i) => i));
    let cells = 0;
    let matched = 0;
    const diffs: string[] = [];
    features.forEach((f, j) => {
      const mine = ours.getChild(f)!;
      const theirs = cols[j + 1];
      for (let i = 0; i < eTs.length; i++) {
        cells++;
        if (theirs[i] !== null) matched++;
        if (!Object.is(mine.get(i), theirs[i]) && diffs.length < 5) diffs.push(`row ${i} ${eSymbols[i]} ${eTs[i]} ${f}: ours ${mine.get(i)}, duckdb ${theirs[i]}`);
      }
    });
    expect(diffs).toEqual([]);
    expect(cells).toBe(eTs.length * features.length);
    // most cells hold a value (not a check that passes on all-null output)
    expect(matched).toBeGreaterThan(cells / 2);
    // and the tie rule is what makes them equal: DuckDB's own pick among ties differs somewhere
    const plain = (await (await db.connect()).runAndReadAll(asOfJoinSql(entityFile, copy, features, false))).getColumnsJS();
    const differs = features.some((f, j) => plain[j + 1].some((v, i) => !Object.is(v, ours.getChild(f)!.get(i))));
    expect(differs).toBe(true);
  });

  it('the replay output itself (TIMESTAMP(NANOS, UTC)) and Arrow tables as inputs give the same table', async () => {
    const fromCopy = await historicalFeatures(entityFile, copy, { features: ['mid', 'rsi_14', 'event_count'] });
    const ent = new Table({ symbol: strs(eSymbols), ts: nanos([...eTs]) });
    const fromOriginal = await historicalFeatures(ent, original, { features: ['mid', 'rsi_14', 'event_count'] });
    for (const f of ['mid', 'rsi_14', 'event_count']) expect([...fromOriginal.getChild(f)!]).toEqual([...fromCopy.getChild(f)!]);
    // the entities' own columns come back unchanged, times exact
    expect(fromOriginal.getChild('ts')!.data[0].values).toEqual(eTs);
  });

  it('decoding on 2 threads gives the table one thread gives', async () => {
    const one = await historicalFeatures(entityFile, original, { threads: 0 });
    const two = await historicalFeatures(entityFile, original, { threads: 2 });
    expect(two.numCols).toBe(one.numCols);
    for (const f of one.schema.fields) expect([...two.getChild(f.name)!], f.name).toEqual([...one.getChild(f.name)!]);
  });
});
