import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalog } from './catalog.ts';
import { eventsToColumns } from './catalog-schema.ts';
import { encodeParquet } from './parquet-io.ts';
import { readFactorTable } from './read-factor-table.ts';
import { runReplay } from './run-replay.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
let dir: string;
const rows = fixtureRows();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-replay-'));
  writeCatalog(join(dir, 'by-symbol'), rows, { partBy: 'symbol' });
  writeCatalog(join(dir, 'single'), rows, { partBy: 'single', rowGroupSize: 97 });
  writeCatalog(join(dir, 'buckets'), rows, { partBy: { buckets: 2 }, rowGroupSize: 1000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const replay = (catalog: string, out: string, extra = {}) => runReplay({ catalog: join(dir, catalog), date: FIXTURE_DATE, out: join(dir, out), progress: false, ...extra });

describe('replay determinism', () => {
  it('the same run twice gives identical output bytes', async () => {
    const a = await replay('by-symbol', 'a.parquet');
    const b = await replay('by-symbol', 'b.parquet');
    expect(a.rows).toBeGreaterThan(3000);
    expect(a.output.sha256).toBe(b.output.sha256);
    expect(readFileSync(join(dir, 'a.parquet')).equals(readFileSync(join(dir, 'b.parquet')))).toBe(true);
    // the writer thread hashes the bytes as it writes them: the reported hash and size are the file's
    const onDisk = readFileSync(join(dir, 'a.parquet'));
    expect(a.output.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
    expect(a.output.bytes).toBe(onDisk.length);
  });

  it('more or fewer files, and other input row-group sizes, give identical output (its lineage names the files read)', async () => {
    await replay('by-symbol', 's1.parquet');
    await replay('single', 's2.parquet');
    await replay('buckets', 's3.parquet');
    // the rows, values and metadata are the same; only the lineage's list of input files differs
    const [a, b, c] = await Promise.all(['s1', 's2', 's3'].map((n) => readFactorTable(join(dir, `${n}.parquet`))));
    const meta = (t: typeof a) => JSON.parse(t.metadata.get('lockstep')!) as { lineage: { inputs: { path: string }[] } };
    const withoutInputs = (t: typeof a) => {
      const m = meta(t);
      return { ...t, metadata: { ...m, lineage: { ...m.lineage, inputs: [] } } };
    };
    expect(withoutInputs(b)).toEqual(withoutInputs(a));
    expect(withoutInputs(c)).toEqual(withoutInputs(a));
    expect(a.seq.length).toBeGreaterThan(3000);
    expect(meta(b).lineage.inputs.map((f) => f.path)).toContain('trade/2024-03-15/part-000.parquet');
    expect(meta(a).lineage.inputs.length).toBeGreaterThan(meta(b).lineage.inputs.length);
  });

  it('other output batch sizes give identical output', async () => {
    const a = await replay('single', 'o1.parquet', { batchRows: 5000 });
    const b = await replay('single', 'o2.parquet', { batchRows: 4097 + 1 });
    expect(b.output.sha256).toBe(a.output.sha256);
  });

  it('a replay stopped at an arbitrary event and resumed from its checkpoint equals the uninterrupted run', async () => {
    const full = await readFactorTable(join(dir, 'a.parquet'));
    for (const stop of [1, 777, 2001]) {
      const cp = join(dir, `cp-${stop}.json`);
      await replay('buckets', `p1-${stop}.parquet`, { stopAfter: stop, checkpoint: cp });
      await replay('single', `p2-${stop}.parquet`, { resume: cp });
      const p1 = await readFactorTable(join(dir, `p1-${stop}.parquet`));
      const p2 = await readFactorTable(join(dir, `p2-${stop}.parquet`));
      expect([...p1.seq, ...p2.seq]).toEqual(full.seq);
      expect([...p1.symbol, ...p2.symbol]).toEqual(full.symbol);
      for (const c of Object.keys(full.values)) expect([...p1.values[c], ...p2.values[c]]).toEqual(full.values[c]);
    }
  });

  it('drops the duplicate delivery, applies the late event, and keeps nanoseconds exact', async () => {
    const s = await replay('by-symbol', 'd.parquet');
    expect(s.duplicates).toBe(1);
    expect(s.late).toBe(1);
    const t = await readFactorTable(join(dir, 'd.parquet'));
    const inputTimes = new Set(rows.map((r) => r.tsEvent));
    expect(t.tsEvent.every((x) => inputTimes.has(x))).toBe(true);
    // the pre-date fundamental is replayed first: point-in-time state for the day
    expect(t.source[0]).toBe('fundamental');
  });

  it('filters by symbols, kinds and time window', async () => {
    const s = await replay('single', 'f.parquet', { symbols: ['BBB'], kinds: ['trade'], from: '13:00', to: '13:01' });
    const t = await readFactorTable(join(dir, 'f.parquet'));
    expect(s.rows).toBeGreaterThan(0);
    expect(new Set(t.symbol)).toEqual(new Set(['BBB']));
    // heartbeats are the clock: they stay in, and emit rows when a bar closes
    expect(new Set(t.source)).toEqual(new Set(['trade', 'heartbeat']));
    const end = BigInt(Date.parse(`${FIXTURE_DATE}T13:01:00Z`)) * 1_000_000n;
    expect(t.tsRecv.every((x) => x < end)).toBe(true);
  });
});

describe('replay bad input', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

  it('a missing catalog is a clear usage error from the CLI, not a stack trace', () => {
    const r = cli('replay', '--catalog', join(dir, 'nope'), '--date', FIXTURE_DATE, '--out', join(dir, 'x.parquet'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('does not exist');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a date with no data names the dates present', () => {
    const r = cli('replay', '--catalog', join(dir, 'single'), '--date', '2020-01-01', '--out', join(dir, 'x.parquet'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(FIXTURE_DATE);
  });

  function writeRaw(catalog: string, kind: 'trade', mutate: (c: Record<string, unknown>) => void, specs?: (s: ReturnType<typeof eventsToColumns>['specs']) => typeof s) {
    const trades = rows.filter((r) => r.kind === 'trade').slice(0, 50).sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : 1));
    const { specs: sp, columns, n } = eventsToColumns(kind, trades);
    mutate(columns as Record<string, unknown>);
    const d = join(dir, catalog, kind, FIXTURE_DATE);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'bad.parquet'), encodeParquet(specs ? specs(sp) : sp, columns, n));
    return join(d, 'bad.parquet');
  }

  it('a NaN price names file, row, field and value', async () => {
    const f = writeRaw('nan', 'trade', (c) => ((c.price as Float64Array)[7] = NaN));
    await expect(replay('nan', 'x.parquet')).rejects.toThrow(`${f}, row 7, field price: must be a finite number > 0 (value NaN)`);
  });

  it('a negative price is refused the same way', async () => {
    const f = writeRaw('neg', 'trade', (c) => ((c.price as Float64Array)[3] = -1));
    await expect(replay('neg', 'x.parquet')).rejects.toThrow(`${f}, row 3, field price`);
  });

  it('rows out of ts_recv order are refused with the row and value', async () => {
    const f = writeRaw('order', 'trade', (c) => {
      const t = c.ts_recv as BigInt64Array;
      [t[10], t[11]] = [t[11], t[10]];
    });
    await expect(replay('order', 'x.parquet')).rejects.toThrow(new RegExp(`${f.replace(/[.]/g, '\\.')}, row 11, field ts_recv: rows must be sorted`));
  });

  it('a file with the wrong schema names the missing column', async () => {
    const f = writeRaw('schema', 'trade', (c) => delete c.size, (s) => s.filter((x) => x.name !== 'size'));
    await expect(replay('schema', 'x.parquet')).rejects.toThrow(`${f}, field size: missing column "size"`);
  });

  it('a file that is not Parquet is named', async () => {
    const d = join(dir, 'garbage', 'trade', FIXTURE_DATE);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'x.parquet'), 'not parquet');
    await expect(replay('garbage', 'x.parquet')).rejects.toThrow(/x\.parquet: not a readable Parquet file/);
  });

  it('the CLI prints the input error without a stack trace and exits 2', () => {
    const r = cli('replay', '--catalog', join(dir, 'nan'), '--date', FIXTURE_DATE, '--out', join(dir, 'x.parquet'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/row 7, field price/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the replay CLI prints a one-line summary with the output hash', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', join(dir, 'single'), '--date', FIXTURE_DATE, '--out', join(dir, 'cli.parquet')], { encoding: 'utf8', cwd: ROOT });
    expect(out).toMatch(/^replayed [\d,]+ events, 3 symbols in [\d.]+ s \([\d.kM]+ events\/s\) -> .*cli\.parquet sha256:[0-9a-f]{16}/);
  });
});
