/**
 * `lockstep bench historical`: `historicalFeatures` (lockstep/research) for 1 M entity rows against
 * a 5 M-row factor table, and DuckDB's `ASOF JOIN` on the same two Parquet files, in the same run.
 *
 * The factor table is real: the `day` preset (50 symbols, seed 42, the catalog `bench replay`
 * generates and shares) replayed through the default factor set, 5.47 M rows of 5 keys and 36
 * factors. DuckDB cuts a UTC nanosecond timestamp to microseconds when it reads Parquet, so both
 * sides read the copy with int64 nanosecond times (research/duckdb-reference.ts says why); the
 * entity file holds symbol and ts (int64 ns). Entity rows: a random factor row's symbol, at its
 * ts_recv exactly (a third), 1 ns before or after, or up to 1 s after; 3% name symbols the table
 * does not have. All of it is generated once into --dir and reused.
 *
 * Each side runs in its own child process, so its peak RSS is its own (DuckDB's memory is native
 * and would otherwise mix in): timed is "Parquet files in, the joined table in memory out" (ours:
 * an Arrow table; DuckDB: a temporary table). After the clock stops, each child hashes every
 * output column (nulls and values, row by row) so the parent can say whether they are identical.
 * DuckDB runs twice: with the tie rule stated in SQL (the last row of a (symbol, ts_recv) in file
 * order, our rule: these values must be identical), and as the plain ASOF JOIN one would write,
 * which picks any row among ties (how many columns then differ is printed, for context).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from '../replay/worker-thread.ts';

const BENCH_DATE = '2024-03-15';
const HERE = fileURLToPath(new URL('.', import.meta.url));

export type HistoricalPhase = 'lockstep' | 'duckdb' | 'duckdb-plain';

export interface HistoricalPhaseResult {
  phase: HistoricalPhase;
  seconds: number;
  /**
   * CPU seconds of the timed part, every thread of the child (user + system). On a machine other
   * processes load, wall time is mostly the share of the cores each side got; CPU time is not.
   */
  cpuSeconds?: number;
  rows: number;
  maxRssMb: number;
  /** sha256 of each feature column's cells (see hashCells), in feature order. */
  hashes: string[];
  features: string[];
  /** Cells with a value (not null). */
  valued: number;
}

export interface HistoricalBenchResult {
  factorRows: number;
  entityRows: number;
  features: number;
  lockstep: HistoricalPhaseResult;
  duckdb: HistoricalPhaseResult;
  duckdbPlain: HistoricalPhaseResult;
  /** DuckDB seconds ÷ ours (> 1: ours is faster). */
  speedup: number;
  identical: boolean;
  plainColumnsDiffering: number;
}

/** Feeds one column's cells to a hash: a tag byte (0 null, 1 value, 2 NaN) and the float64's bytes. */
export function hashCells(get: (i: number) => unknown, n: number): string {
  const h = createHash('sha256');
  const buf = Buffer.alloc(9 * 4096);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = get(i);
    if (v === null || v === undefined) buf[at] = 0;
    else if (Number.isNaN(v)) buf[at] = 2;
    else {
      buf[at] = 1;
      buf.writeDoubleLE(v as number, at + 1);
    }
    if (v === null || v === undefined || Number.isNaN(v)) buf.fill(0, at + 1, at + 9);
    at += 9;
    if (at === buf.length) {
      h.update(buf);
      at = 0;
    }
  }
  h.update(buf.subarray(0, at));
  return h.digest('hex');
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
const cpuSince = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
};

/** One side of the benchmark, in this process (the child). */
export async function runHistoricalPhase(phase: HistoricalPhase, entities: string, factors: string): Promise<HistoricalPhaseResult> {
  if (phase === 'lockstep') {
    const { historicalFeatures, FACTOR_KEY_COLUMNS } = await import('../research/index.ts');
    const cpu = process.cpuUsage();
    const started = performance.now();
    const t = await historicalFeatures(entities, factors);
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpuSince(cpu);
    const rss = maxRssMb();
    const features = t.schema.fields.map((f) => f.name).filter((c) => !['symbol', 'ts', ...FACTOR_KEY_COLUMNS].includes(c));
    let valued = 0;
    const hashes = features.map((f) => {
      const v = t.getChild(f)!;
      valued += v.length - v.nullCount;
      return hashCells((i) => v.get(i), t.numRows);
    });
    return { phase, seconds, cpuSeconds, rows: t.numRows, maxRssMb: rss, hashes, features, valued };
  }
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const { asOfJoinSql } = await import('../research/duckdb-reference.ts');
  const { FACTOR_KEY_COLUMNS } = await import('../research/historical-features.ts');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const described = (await con.runAndReadAll(`describe select * from read_parquet('${factors}')`)).getRowObjectsJS();
  const features = described.map((r) => String(r.column_name)).filter((c) => !(FACTOR_KEY_COLUMNS as readonly string[]).includes(c));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await con.run(`create temp table r as ${asOfJoinSql(entities, factors, features, phase === 'duckdb')}`);
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  const rss = maxRssMb();
  const cols = (await con.runAndReadAll('select * from r order by entity_row')).getColumnsJS();
  let valued = 0;
  const hashes = features.map((_, j) => {
    const c = cols[j + 1];
    for (const v of c) if (v !== null) valued++;
    return hashCells((i) => c[i], c.length);
  });
  con.closeSync();
  return { phase, seconds, cpuSeconds, rows: cols[0].length, maxRssMb: rss, hashes, features, valued };
}

/** The day preset's catalog (shared with `bench replay`), its factor table and the int64 copy, the entity file. */
async function prepare(dir: string, entityRows: number): Promise<{ factors: string; entities: string; factorRows: number }> {
  const catalog = join(dir, 'catalog-day');
  if (!existsSync(join(catalog, '.complete'))) {
    const { generateDay } = await import('../datasets/generate.ts');
    console.log(`generating the day preset into ${catalog} (once; reused by later runs)`);
    const g = await generateDay({ date: BENCH_DATE, symbols: 50, seed: 42, preset: 'day', out: catalog, partBy: { buckets: 4 } });
    writeFileSync(join(catalog, '.complete'), JSON.stringify({ events: g.total }));
  }
  const table = join(dir, 'historical-factors.parquet');
  const copy = join(dir, 'historical-factors-int64.parquet');
  if (!existsSync(copy)) {
    const { runReplay } = await import('../replay/run-replay.ts');
    const { writeInt64TimesCopy } = await import('../research/duckdb-reference.ts');
    console.log(`replaying ${BENCH_DATE} of ${catalog} into ${table} (once)`);
    await runReplay({ catalog, date: BENCH_DATE, out: table, progress: false });
    await writeInt64TimesCopy(table, `${copy}.part`);
    renameSync(`${copy}.part`, copy);
  }
  const { openSource, readNanos, readSymbolIds, column } = await import('../research/columnar-source.ts');
  const src = await openSource(copy, copy);
  const factorRows = src.numRows;
  const entities = join(dir, `historical-entities-${entityRows}.parquet`);
  if (!existsSync(entities)) {
    console.log(`writing ${entityRows.toLocaleString('en-US')} entity rows into ${entities} (once)`);
    const ids = new Map<string, number>();
    const sym = new Int32Array(src.numRows);
    const ts = new BigInt64Array(src.numRows);
    let at = 0;
    for (let g = 0; g < src.groupRows.length; g++) {
      const t = await src.read(g, ['symbol', 'ts_recv']);
      readSymbolIds(column(t, 'symbol', src), sym, at, ids, true, src, 'symbol', at);
      readNanos(column(t, 'ts_recv', src), ts, at, src, 'ts_recv', at);
      at += src.groupRows[g];
    }
    const names = [...ids.keys()];
    const { rngFor, intBelow, chance } = await import('../datasets/prng.ts');
    const { writeEntities } = await import('../research/duckdb-reference.ts');
    const rng = rngFor(42, 16);
    const eSym: string[] = new Array(entityRows);
    const eTs = new BigInt64Array(entityRows);
    for (let i = 0; i < entityRows; i++) {
      const r = intBelow(rng, src.numRows);
      eSym[i] = chance(rng, 0.03) ? `ABSENT${intBelow(rng, 10)}` : names[sym[r]];
      const kind = intBelow(rng, 6);
      eTs[i] = ts[r] + (kind === 0 ? -1n : kind === 1 ? 1n : kind === 2 ? BigInt(intBelow(rng, 1_000_000_000)) : 0n);
    }
    writeEntities(entities, eSym, eTs);
  }
  src.close();
  return { factors: copy, entities, factorRows };
}

function runChild(phase: HistoricalPhase, entities: string, factors: string): HistoricalPhaseResult {
  const bin = join(HERE, FROM_SOURCE ? '..' : '../..', 'bin/lockstep.js');
  const child = spawnSync(process.execPath, [bin, 'bench-historical-phase', phase, '--entities', entities, '--factors', factors], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (child.status !== 0) throw new Error(`bench phase ${phase} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as HistoricalPhaseResult;
}

/** Runs the benchmark: prepares the files once, then each side in its own process. */
export async function benchHistorical(opts: { dir: string; json?: string; entities?: number }): Promise<HistoricalBenchResult> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const entityRows = opts.entities ?? 1_000_000;
  const { factors, entities, factorRows } = await prepare(dir, entityRows);
  const lockstep = runChild('lockstep', entities, factors);
  console.log(`  historicalFeatures   ${lockstep.seconds.toFixed(2)} s (CPU ${cpuOf(lockstep)}), peak RSS ${lockstep.maxRssMb.toFixed(0)} MB`);
  const duckdb = runChild('duckdb', entities, factors);
  console.log(`  DuckDB ASOF JOIN     ${duckdb.seconds.toFixed(2)} s (CPU ${cpuOf(duckdb)}), peak RSS ${duckdb.maxRssMb.toFixed(0)} MB (with the tie rule)`);
  const duckdbPlain = runChild('duckdb-plain', entities, factors);
  console.log(`  DuckDB ASOF JOIN     ${duckdbPlain.seconds.toFixed(2)} s (CPU ${cpuOf(duckdbPlain)}), peak RSS ${duckdbPlain.maxRssMb.toFixed(0)} MB (plain: any row among ties)`);
  const same = (a: HistoricalPhaseResult, b: HistoricalPhaseResult) => a.features.filter((f, j) => b.features[j] !== f || b.hashes[j] !== a.hashes[j]).length;
  const out: HistoricalBenchResult = {
    factorRows,
    entityRows,
    features: lockstep.features.length,
    lockstep,
    duckdb,
    duckdbPlain,
    speedup: duckdb.seconds / lockstep.seconds,
    identical: lockstep.rows === duckdb.rows && lockstep.features.length === duckdb.features.length && same(lockstep, duckdb) === 0,
    plainColumnsDiffering: same(lockstep, duckdbPlain),
  };
  console.log(formatHistoricalBench(out));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  return out;
}

const cpuOf = (p: HistoricalPhaseResult) => (p.cpuSeconds === undefined ? '-' : `${p.cpuSeconds.toFixed(2)} s`);

export function formatHistoricalBench(r: HistoricalBenchResult): string {
  const cells = r.entityRows * r.features;
  return [
    `\nhistorical features benchmark: ${r.entityRows.toLocaleString('en-US')} entity rows against a ${r.factorRows.toLocaleString('en-US')}-row factor table (${r.features} features, day preset replayed)`,
    '| join | time | CPU (all threads) | peak RSS | rows |',
    '|---|---|---|---|---|',
    `| historicalFeatures (lockstep/research) | ${r.lockstep.seconds.toFixed(2)} s | ${cpuOf(r.lockstep)} | ${r.lockstep.maxRssMb.toFixed(0)} MB | ${r.lockstep.rows.toLocaleString('en-US')} |`,
    `| DuckDB ASOF JOIN, tie rule in SQL (peer) | ${r.duckdb.seconds.toFixed(2)} s | ${cpuOf(r.duckdb)} | ${r.duckdb.maxRssMb.toFixed(0)} MB | ${r.duckdb.rows.toLocaleString('en-US')} |`,
    `| DuckDB ASOF JOIN, plain | ${r.duckdbPlain.seconds.toFixed(2)} s | ${cpuOf(r.duckdbPlain)} | ${r.duckdbPlain.maxRssMb.toFixed(0)} MB | ${r.duckdbPlain.rows.toLocaleString('en-US')} |`,
    `ratio: DuckDB (tie rule) / historicalFeatures = ${r.speedup.toFixed(2)}x (goal >= 1.00: ${r.speedup >= 1 ? 'met' : 'NOT met'}); plain ASOF / ours = ${(r.duckdbPlain.seconds / r.lockstep.seconds).toFixed(2)}x`,
    ...(r.lockstep.cpuSeconds && r.duckdb.cpuSeconds ? [`CPU time: DuckDB (tie rule) / historicalFeatures = ${(r.duckdb.cpuSeconds / r.lockstep.cpuSeconds).toFixed(2)}x (for context on a loaded machine; the goal is on time)`] : []),
    `values identical to DuckDB (tie rule): ${r.identical ? 'yes' : 'NO'}, ${cells.toLocaleString('en-US')} cells (${r.lockstep.valued.toLocaleString('en-US')} with a value); plain ASOF JOIN differs in ${r.plainColumnsDiffering} of ${r.features} columns (its pick among ties)`,
    `peak RSS of historicalFeatures: ${r.lockstep.maxRssMb.toFixed(0)} MB (goal <= 1024 MB: ${r.lockstep.maxRssMb <= 1024 ? 'met' : 'NOT met'})`,
  ].join('\n');
}

