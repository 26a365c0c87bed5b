/**
 * Other readers of `--out FILE.arrow`: pyarrow (plain and LZ4) and DuckDB, where this machine has
 * them. Each is skipped with the reason printed when absent: on the project's machines today
 * pyarrow is not installed (no registry here ships it), and DuckDB reads Arrow IPC only through
 * its `nanoarrow` community extension, which it downloads on first use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalog } from './catalog.ts';
import { readFactorTable } from './read-factor-table.ts';
import { runReplay } from './run-replay.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

const pyarrow = spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' });
const hasPyarrow = pyarrow.status === 0;
if (!hasPyarrow) console.log(`arrow-readers: pyarrow test skipped: python3 -c "import pyarrow" failed (${(pyarrow.stderr || String(pyarrow.error)).trim().split('\n').pop()})`);

let duckdbReason = '';
/** A DuckDB connection with Arrow IPC reading, or null (reason in duckdbReason). Never downloads: a test must not need the network. */
async function duckdbWithArrow() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run('LOAD nanoarrow');
    return c;
  } catch (e) {
    duckdbReason = `${(e as Error).message.split('\n')[0]} (INSTALL nanoarrow FROM community needs the network)`;
    return null;
  }
}
let duck: Awaited<ReturnType<typeof duckdbWithArrow>> = null;

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-arrow-readers-'));
  duck = await duckdbWithArrow();
  if (!hasPyarrow && duck === null) return;
  writeCatalog(join(dir, 'cat'), fixtureRows(), { partBy: 'symbol' });
  for (const [out, arrowCompression] of [['t.parquet', 'none'], ['t.arrow', 'none'], ['z.arrow', 'lz4']] as const) {
    await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, out), progress: false, arrowCompression, rowGroupSize: 1000 });
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the Parquet output says, for the readers to match. */
async function expected() {
  const p = await readFactorTable(join(dir, 't.parquet'));
  const ma = p.values[p.columns[6]];
  return {
    rows: p.seq.length,
    seqSum: String(p.seq.reduce((a, b) => a + b, 0n)),
    tsMin: String(p.tsEvent.reduce((a, b) => (b < a ? b : a))),
    tsMax: String(p.tsRecv.reduce((a, b) => (b > a ? b : a))),
    col: p.columns[6],
    nulls: ma.filter((v) => v === null).length,
    values: ma.map((v) => (v === null ? null : v)),
    symbols: p.symbol,
  };
}

describe.skipIf(!hasPyarrow)('pyarrow reads the .arrow file', () => {
  it.each(['t.arrow', 'z.arrow'])('%s: same rows, exact int64 times and values as the Parquet output', async (name) => {
    const want = await expected();
    const script = `
import json, sys, pyarrow as pa
t = pa.ipc.open_file(sys.argv[1]).read_all()
c = t.column(sys.argv[2])
print(json.dumps({"rows": t.num_rows, "seqSum": str(sum(t.column("seq").to_pylist())),
  "tsMin": str(min(t.column("ts_event").cast(pa.int64()).to_pylist())), "tsMax": str(max(t.column("ts_recv").cast(pa.int64()).to_pylist())),
  "nulls": c.null_count, "values": c.to_pylist(), "symbols": t.column("symbol").to_pylist(), "tsType": str(t.schema.field("ts_event").type)}))
`;
    const r = spawnSync('python3', ['-c', script, join(dir, name), want.col], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.tsType).toBe('timestamp[ns, tz=UTC]');
    expect({ ...got, tsType: undefined }).toEqual({ rows: want.rows, seqSum: want.seqSum, tsMin: want.tsMin, tsMax: want.tsMax, nulls: want.nulls, values: want.values, symbols: want.symbols, tsType: undefined });
  });
});

describe('DuckDB reads the .arrow file', () => {
  it('count, int64 sums and ns times match the Parquet output (skipped where DuckDB has no Arrow IPC reader)', async (ctx) => {
    if (duck === null) {
      console.log(`arrow-readers: DuckDB test skipped: its nanoarrow extension (read_arrow) cannot be loaded here: ${duckdbReason}`);
      ctx.skip();
      return;
    }
    const r = await duck.runAndReadAll(`SELECT count(*), sum(seq)::VARCHAR, min(epoch_ns(ts_event))::VARCHAR, max(epoch_ns(ts_recv))::VARCHAR FROM read_arrow('${join(dir, 't.arrow')}')`);
    const [rows, seqSum, tsMin, tsMax] = r.getRows()[0] as [bigint, string, string, string];
    const got = { rows, seqSum, tsMin, tsMax };
    const want = await expected();
    expect({ rows: Number(got.rows), seqSum: got.seqSum, tsMin: got.tsMin, tsMax: got.tsMax }).toEqual({ rows: want.rows, seqSum: want.seqSum, tsMin: want.tsMin, tsMax: want.tsMax });
  });
});
