/**
 * Diff bench: proves `lockstep parity diff` streams. It writes two factor tables of N rows (5M by
 * default) with the real factor-table writer (ParquetStreamWriter, 64k-row groups, the default
 * factor set's 36 columns), B with a handful of injected differences, runs the real CLI on them as
 * a child process under /usr/bin/time, and reports wall time, rows/s and the child's peak RSS.
 * It fails when the peak RSS exceeds the budget (1 GB) or when the report does not find exactly
 * the injected differences.
 *
 *   npx tsx bench/diff-bench.ts [--rows 5000000] [--dir out/bench/diff] [--json out.json] [--keep]
 *
 * Injected into B: one cell 1 ULP off, +0 vs -0, a value vs null, NaN vs a number, a NaN with
 * another payload (must NOT count: NaN equals NaN), one row deleted (only in A), one extra row
 * (only in B), two adjacent rows swapped and one row moved 100k rows later (both must still match).
 * Tables are generated in replay order (ts_recv, source priority, symbol, seq), heartbeats fanned
 * out to every symbol, and are reused by later runs with the same row count.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultFactorSet } from '../core/registry.ts';
import { factorTableSpecs } from '../replay/factor-table-sink.ts';
import type { ColumnData } from '../replay/parquet-io.ts';
import { ParquetStreamWriter } from '../replay/parquet-stream-writer.ts';
import type { DiffReport } from '../parity/diff.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GENERATOR_VERSION = 2;
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${String(i).padStart(2, '0')}`);
const KINDS = ['book', 'quote', 'trade'] as const;
const BATCH = 65536;

export interface Injection {
  what: string;
  row: number;
  column?: string;
}

/** Where the differences go (row numbers of A), spread over the table. */
export function injections(rows: number): Record<string, Injection> {
  const at = (f: number) => Math.floor(rows * f);
  return {
    ulp: { what: '1 ULP', row: at(0.1), column: 'ma_5m' },
    signedZero: { what: '+0 vs -0', row: at(0.3), column: 'rsi_14' },
    swap: { what: 'rows swapped (no difference)', row: at(0.4) },
    nullB: { what: 'value vs null', row: at(0.5), column: 'vwap_session' },
    nanVsNumber: { what: 'NaN vs number', row: at(0.6), column: 'spread' },
    nanPayload: { what: 'NaN payloads differ (no difference)', row: at(0.65), column: 'mid' },
    deleted: { what: 'row deleted from B', row: at(0.7) },
    extra: { what: 'extra row in B', row: at(0.8) },
    moved: { what: 'row moved 100k rows later in B (no difference)', row: at(0.9) },
  };
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const withBits = (bits: bigint) => ((u64[0] = bits), f64[0]);
const nextUp = (x: number) => ((f64[0] = x), (u64[0] += x >= 0 ? 1n : -1n), f64[0]);

interface Row {
  symbol: number;
  source: number;
  seq: bigint;
  ts: bigint;
  values: Float64Array;
  valid: Uint8Array;
}

/**
 * Deterministic rows in replay order: events on 50 symbols plus a heartbeat fan-out each second.
 * Yields one scratch row, overwritten by the next (copy it to keep it).
 */
function* generateRows(rows: number, columns: readonly string[]): Generator<Row> {
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const w = columns.length;
  const kindOf = columns.map((c) => (c.endsWith('_flag') ? 1 : c.includes('count') ? 2 : 0));
  const price = SYMBOLS.map((_, i) => 50 + i * 7);
  const seen = SYMBOLS.map(() => 0);
  const seqs = SYMBOLS.map(() => [0n, 0n, 0n, 0n]);
  let heartbeat = 0n;
  let ts = BigInt(Date.UTC(2024, 2, 15, 13, 30)) * 1_000_000n;
  let nextSecond = ts + 1_000_000_000n;
  const r: Row = { symbol: 0, source: 0, seq: 0n, ts: 0n, values: new Float64Array(w), valid: new Uint8Array(w) };
  const fill = (symbol: number, source: number, seq: bigint, t: bigint): Row => {
    r.symbol = symbol;
    r.source = source;
    r.seq = seq;
    r.ts = t;
    const p = price[symbol];
    const n = ++seen[symbol];
    const noise = rand() * 0.05;
    const flag = rand() < 0.01 ? 1 : 0;
    for (let c = 0; c < w; c++) {
      // warm-up: column c becomes valid after a few rows; flags and counts are small integers
      const warm = n > (c * 7) % 40;
      r.valid[c] = warm ? 1 : 0;
      r.values[c] = !warm ? 0 : kindOf[c] === 1 ? flag : kindOf[c] === 2 ? Math.floor(n / 10) % 500 : Math.round((p * (1 + (c - 18) * 1e-3) + noise * ((c % 5) + 1)) * 1e4) / 1e4;
    }
    return r;
  };
  for (let made = 0; made < rows; ) {
    ts += BigInt(1 + Math.floor(rand() * 2_000_000));
    if (ts >= nextSecond) {
      heartbeat++;
      for (let s = 0; s < SYMBOLS.length && made < rows; s++, made++) yield fill(s, 0, heartbeat, nextSecond);
      nextSecond += 1_000_000_000n;
      continue;
    }
    const s = Math.floor(rand() * SYMBOLS.length);
    const k = 1 + Math.floor(rand() * KINDS.length);
    price[s] = Math.max(1, price[s] + (rand() - 0.5) * 0.02);
    made++;
    yield fill(s, k, ++seqs[s][k], ts);
  }
}

const copyRow = (r: Row): Row => ({ ...r, values: r.values.slice(), valid: r.valid.slice() });

/** Column batches for the writer, one table. */
class Batcher {
  private symbol = new Int32Array(BATCH);
  private source = new Int32Array(BATCH);
  private seq = new BigInt64Array(BATCH);
  private ts = new BigInt64Array(BATCH);
  private values: Float64Array[];
  private valid: Uint8Array[];
  n = 0;

  constructor(
    private readonly columns: readonly string[],
    private readonly writer: ParquetStreamWriter,
    private readonly symbols: string[],
  ) {
    this.values = columns.map(() => new Float64Array(BATCH));
    this.valid = columns.map(() => new Uint8Array(BATCH));
  }

  /** Adds a row; true when the batch is full and must be flushed. */
  push(r: Row): boolean {
    const i = this.n++;
    this.symbol[i] = r.symbol;
    this.source[i] = r.source;
    this.seq[i] = r.seq;
    this.ts[i] = r.ts;
    for (let c = 0; c < this.columns.length; c++) {
      this.values[c][i] = r.values[c];
      this.valid[c][i] = r.valid[c];
    }
    return this.n === BATCH;
  }

  async add(r: Row): Promise<void> {
    if (this.push(r)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.n === 0) return;
    const n = this.n;
    const cols: Record<string, ColumnData> = {
      symbol: { dict: this.symbols, indices: this.symbol.slice(0, n) },
      source: { dict: ['heartbeat', ...KINDS], indices: this.source.slice(0, n) },
      seq: this.seq.slice(0, n),
      ts_event: this.ts.slice(0, n),
      ts_recv: this.ts.slice(0, n),
    };
    this.columns.forEach((name, c) => {
      cols[name] = { values: this.values[c].slice(0, n), valid: this.valid[c].slice(0, n) };
    });
    this.n = 0;
    await this.writer.write(cols, n);
  }
}

const rowKey = (r: Row, symbols: string[]) => `${symbols[r.symbol]}/${['heartbeat', ...KINDS][r.source]}/${r.seq}`;

/** Writes A and B; returns the keys the report must name. */
export async function writeTables(rows: number, a: string, b: string): Promise<{ deletedKey: string; extraKey: string; symbolOf: Record<string, string> }> {
  const columns = defaultFactorSet().columns;
  const specs = factorTableSpecs(columns);
  const symbols = [...SYMBOLS, 'ZZ_EXTRA'];
  const wa = new ParquetStreamWriter(a, specs);
  const wb = new ParquetStreamWriter(b, specs);
  const ba = new Batcher(columns, wa, symbols);
  const bb = new Batcher(columns, wb, symbols);
  const inj = injections(rows);
  const at = new Map(Object.entries(inj).map(([k, x]) => [x.row, k]));
  const set = (which: Row, name: string, v: number | null) => {
    const c = columns.indexOf(name);
    which.valid[c] = v === null ? 0 : 1;
    which.values[c] = v ?? 0;
  };
  let swapHeld: Row | null = null;
  let moved: Row | null = null;
  let deletedKey = '';
  let extraPending = false;
  const symbolOf: Record<string, string> = {};
  let i = 0;
  for (const r of generateRows(rows, columns)) {
    let what = at.get(i);
    // the extra row goes after the first event at or past its row (not inside a heartbeat fan-out),
    // so it sorts right after its neighbour: same ts_recv, the last source priority and symbol
    if (what === 'extra' && r.source === 0) {
      extraPending = true;
      what = undefined;
    } else if (what === undefined && extraPending && r.source !== 0) {
      extraPending = false;
      what = 'extra';
    }
    if (what === undefined) {
      // the common row: no await unless a batch is full
      if (ba.push(r)) await ba.flush();
      if (bb.push(r)) await bb.flush();
    } else {
      symbolOf[what] = SYMBOLS[r.symbol];
      const rb = copyRow(r);
      let skipB = false;
      if (what === 'ulp') {
        set(r, 'ma_5m', 101.25);
        set(rb, 'ma_5m', nextUp(101.25));
      } else if (what === 'signedZero') {
        set(r, 'rsi_14', 0);
        set(rb, 'rsi_14', -0);
      } else if (what === 'nullB') {
        set(r, 'vwap_session', 99.5);
        set(rb, 'vwap_session', null);
      } else if (what === 'nanVsNumber') {
        set(r, 'spread', NaN);
        set(rb, 'spread', 1.5);
      } else if (what === 'nanPayload') {
        set(r, 'mid', NaN);
        set(rb, 'mid', withBits(0x7ff8000000000001n));
      } else if (what === 'deleted') {
        deletedKey = rowKey(r, symbols);
        skipB = true;
      } else if (what === 'swap') {
        swapHeld = rb;
        skipB = true;
      } else if (what === 'moved') {
        moved = rb;
        skipB = true;
      }
      await ba.add(r);
      if (!skipB) await bb.add(rb);
      if (what === 'extra') await bb.add({ ...rb, symbol: symbols.indexOf('ZZ_EXTRA'), source: 3, seq: 1n });
    }
    if (swapHeld && i === inj.swap.row + 1) {
      await bb.add(swapHeld);
      swapHeld = null;
    }
    if (moved && i === inj.moved.row + 100_000) {
      await bb.add(moved);
      moved = null;
    }
    i++;
  }
  if (moved) await bb.add(moved);
  await ba.flush();
  await bb.flush();
  await Promise.all([wa.close(), wb.close()]);
  return { deletedKey, extraKey: `ZZ_EXTRA/${KINDS[2]}/1`, symbolOf };
}

export interface DiffBenchResult {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  maxRssMb: number;
  budgetMb: number;
  stats: string;
  ok: boolean;
  problems: string[];
}

/** The checks: exactly the injected differences, nothing else. */
export function checkReport(r: DiffReport, rows: number, keys: { deletedKey: string; extraKey: string; symbolOf: Record<string, string> }): string[] {
  const p: string[] = [];
  const want = (what: string, got: unknown, exp: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(exp)) p.push(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(exp)}`);
  };
  const inj = injections(rows);
  want('verdict', r.verdict, 'skew');
  want('rowsA', r.rowsA, rows);
  want('rowsB', r.rowsB, rows);
  want('matchedRows', r.matchedRows, rows - 1);
  want('onlyInA', [r.onlyInA, r.onlyInASample], [1, [keys.deletedKey]]);
  want('onlyInB', [r.onlyInB, r.onlyInBSample], [1, [keys.extraKey]]);
  want('mismatchedCells', r.mismatchedCells, 4);
  const bad = Object.fromEntries(r.factors.filter((f) => f.mismatched > 0).map((f) => [f.factor, f.mismatched]).sort());
  want('mismatched factors', bad, { ma_5m: 1, rsi_14: 1, spread: 1, vwap_session: 1 });
  want('max ULP of ma_5m', r.factors.find((f) => f.factor === 'ma_5m')?.maxUlp, '1');
  want('-0/+0 of rsi_14', r.factors.find((f) => f.factor === 'rsi_14')?.signedZero, 1);
  want('mid (NaN payloads)', r.factors.find((f) => f.factor === 'mid')?.mismatched, 0);
  // each injected cell is its symbol's first divergence unless an earlier one hit the same symbol
  const cells = (['ulp', 'signedZero', 'nullB', 'nanVsNumber'] as const).map((k) => ({ k, symbol: keys.symbolOf[k], column: inj[k].column }));
  const firstBySymbol = new Map<string, string>();
  for (const c of cells) if (!firstBySymbol.has(c.symbol)) firstBySymbol.set(c.symbol, c.column!);
  want(
    'first divergence per symbol',
    Object.fromEntries(r.firstDivergencePerSymbol.map((d) => [d.symbol, d.factor])),
    Object.fromEntries(firstBySymbol),
  );
  want('timeline rows', r.timeline.buckets.reduce((x, y) => x + y, 0), 4);
  return p;
}

export async function benchDiff(opts: { rows?: number; dir?: string; json?: string; keep?: boolean; budgetMb?: number } = {}): Promise<DiffBenchResult> {
  const rows = opts.rows ?? 5_000_000;
  const budgetMb = opts.budgetMb ?? 1024;
  const dir = resolve(opts.dir ?? join(ROOT, 'out/bench/diff'));
  mkdirSync(dir, { recursive: true });
  const a = join(dir, `a-${rows}-v${GENERATOR_VERSION}.parquet`);
  const b = join(dir, `b-${rows}-v${GENERATOR_VERSION}.parquet`);
  const keysFile = join(dir, `keys-${rows}-v${GENERATOR_VERSION}.json`);
  if (!existsSync(a) || !existsSync(b) || !existsSync(keysFile)) {
    const t0 = performance.now();
    console.log(`writing two ${rows.toLocaleString('en-US')}-row factor tables into ${dir} (reused by later runs)`);
    writeFileSync(keysFile, JSON.stringify(await writeTables(rows, a, b)));
    console.log(`  written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as Awaited<ReturnType<typeof writeTables>>;
  const report = join(dir, 'report.json');
  rmSync(report, { force: true });
  const timed = existsSync('/usr/bin/time');
  const cli = [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', a, b, '--json', report];
  const t0 = performance.now();
  const run = timed ? spawnSync('/usr/bin/time', ['-f', 'diff-bench-rss-kb %M', process.execPath, ...cli], { encoding: 'utf8', cwd: ROOT }) : spawnSync(process.execPath, cli, { encoding: 'utf8', cwd: ROOT });
  const seconds = (performance.now() - t0) / 1000;
  const problems: string[] = [];
  if (run.status !== 1) problems.push(`exit status ${run.status} (expected 1, skew): ${run.stderr.slice(-2000)}`);
  const rss = /diff-bench-rss-kb (\d+)/.exec(run.stderr ?? '');
  const maxRssMb = rss ? Number(rss[1]) / 1024 : NaN;
  if (!timed) problems.push('/usr/bin/time not found: peak RSS not measured');
  else if (!(maxRssMb <= budgetMb)) problems.push(`peak RSS ${maxRssMb.toFixed(0)} MB is over the ${budgetMb} MB budget`);
  const stats = /^diffed .*$/m.exec(run.stderr ?? '')?.[0] ?? '';
  const hw = /high-water (\d+) rows/.exec(stats);
  if (!hw || Number(hw[1]) > 100) problems.push(`unmatched window high-water ${hw?.[1] ?? '?'} rows (expected a handful: the orders agree)`);
  if (!/, 1 pass;/.test(stats)) problems.push(`expected one pass: ${stats}`);
  if (existsSync(report)) problems.push(...checkReport(JSON.parse(readFileSync(report, 'utf8')) as DiffReport, rows, keys));
  else problems.push('no JSON report written');
  const result: DiffBenchResult = { rows, seconds, rowsPerSec: (2 * rows) / seconds, maxRssMb, budgetMb, stats, ok: problems.length === 0, problems };
  console.log(`parity diff of two ${rows.toLocaleString('en-US')}-row tables: ${seconds.toFixed(1)} s wall, ${(result.rowsPerSec / 1e6).toFixed(2)} M rows/s (both tables), peak RSS ${maxRssMb.toFixed(0)} MB (budget ${budgetMb} MB)`);
  console.log(`  ${stats}`);
  console.log(result.ok ? '  OK: every injected difference found, nothing else' : `  FAILED:\n    ${problems.join('\n    ')}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  if (!opts.keep) {
    rmSync(a, { force: true });
    rmSync(b, { force: true });
    rmSync(keysFile, { force: true });
  }
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const r = await benchDiff({ rows: arg('rows') ? Number(arg('rows')) : undefined, dir: arg('dir'), json: arg('json'), keep: process.argv.includes('--keep') });
  process.exitCode = r.ok ? 0 : 1;
}
