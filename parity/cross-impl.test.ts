/**
 * Cross-implementation parity: the replay's ma_5m / ma_20m / ma_60m / vwap_session held to an
 * independent DuckDB SQL implementation (`lockstep parity reference`) through the real CLI:
 * replay → reference (+ the replay projected on the reference's columns) → `parity diff` with
 * rel:1e-12, on a synthetic day, a synthetic day with many repeated and late deliveries, and real
 * TAQ and Binance data after import. A reference with a deliberately wrong window must fail.
 *
 * Tolerance: the two sides sum the same float64 closes and trades in another order with other
 * rounding, so they may differ by a few ulps; the worst relative difference measured on these
 * days is below 1e-15, far inside rel:1e-12, and a real bug (a wrong window, bar, session or
 * ordering rule) moves values by many orders of magnitude more.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { REFERENCE_COLUMNS, writeReference, type ReferenceSummary } from './cross-impl.ts';
import { loadTable } from './load-table.ts';
import { projectFactorTable } from './project-table.ts';
import { realData } from '../testing/real-data.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REAL_TAQ = realData('parity reference on real TAQ trades and quotes (2018-01-03, after import)', 'equity_taq_highfrequency');
const REAL_BINANCE = realData('parity reference on real Binance BTCUSDT (2024-08-08 from 23:56, after import)', 'crypto_binance_btcusdt');
const TAQ = REAL_TAQ.path('equity_taq_highfrequency');
const BINANCE = REAL_BINANCE.path('crypto_binance_btcusdt');
const TOL = 'rel:1e-12';

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
function ok(...args: string[]): string {
  const r = cli(...args);
  expect(r.status, `lockstep ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface FactorReport {
  factor: string;
  compared: number;
  mismatched: number;
  maxRel: number;
  maxUlp: string;
}
interface Report {
  verdict: string;
  onlyInA: number;
  onlyInB: number;
  matchedRows: number;
  mismatchedCells: number;
  columnsOnlyInA: string[];
  columnsOnlyInB: string[];
  factors: FactorReport[];
}

/** `lockstep parity diff A B --tolerance rel:1e-12 --json`: exit status and the machine report. */
function diff(a: string, b: string, json: string, tolerance = TOL): { status: number | null; report: Report; stdout: string } {
  const r = cli('parity', 'diff', a, b, '--tolerance', tolerance, '--json', json);
  expect([0, 1], r.stderr).toContain(r.status);
  return { status: r.status, report: JSON.parse(readFileSync(json, 'utf8')) as Report, stdout: r.stdout };
}

/** Non-null cells per reference column: the comparison must not be of nulls only. */
async function nonNull(path: string): Promise<Record<string, number>> {
  const t = await loadTable(path);
  return Object.fromEntries(REFERENCE_COLUMNS.map((c) => [c, t.values[c].filter((v) => v !== null).length]));
}

function expectParity(label: string, d: ReturnType<typeof diff>): void {
  expect(d.status, d.stdout).toBe(0);
  expect(d.report.verdict).toBe('parity');
  expect(d.report.onlyInA + d.report.onlyInB).toBe(0);
  expect(d.report.columnsOnlyInA.length + d.report.columnsOnlyInB.length).toBe(0);
  expect(d.report.factors.map((f) => f.factor).sort()).toEqual([...REFERENCE_COLUMNS].sort());
  for (const f of d.report.factors) {
    expect(f.mismatched, f.factor).toBe(0);
    expect(f.maxRel).toBeLessThanOrEqual(1e-12);
  }
  console.log(`[cross-impl] ${label}: ${d.report.matchedRows.toLocaleString('en-US')} rows; ${d.report.factors.map((f) => `${f.factor} max rel ${f.maxRel.toExponential(2)} (${f.maxUlp} ulp)`).join(', ')}`);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-cross-impl-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('parity reference vs the replay on a synthetic day (tiny preset), all through the CLI', () => {
  const DATE = '2024-03-15';
  let cat: string;
  beforeAll(() => {
    cat = join(dir, 'tiny');
    ok('datasets', 'generate', '--date', DATE, '--symbols', '3', '--seed', '11', '--preset', 'tiny', '--out', cat);
    ok('replay', '--catalog', cat, '--date', DATE, '--out', join(dir, 'tiny-replay.parquet'));
    const out = ok('parity', 'reference', '--catalog', cat, '--date', DATE, '--out', join(dir, 'tiny-ref.parquet'), '--replay', join(dir, 'tiny-replay.parquet'), '--replay-out', join(dir, 'tiny-proj.parquet'));
    expect(out).toMatch(/reference \(DuckDB SQL\): [\d,]+ rows/);
    expect(out).toMatch(/heartbeat rows where none of them changed/);
    ok('parity', 'reference', '--catalog', cat, '--date', DATE, '--out', join(dir, 'tiny-ref.csv'));
  });

  it('the replay, restricted to the four columns, agrees with the SQL reference within rel:1e-12 on every row', async () => {
    expectParity('tiny synthetic day', diff(join(dir, 'tiny-proj.parquet'), join(dir, 'tiny-ref.parquet'), join(dir, 'tiny.json')));
    const n = await nonNull(join(dir, 'tiny-ref.parquet'));
    for (const c of REFERENCE_COLUMNS) expect(n[c], c).toBeGreaterThan(1000);
    const t = await loadTable(join(dir, 'tiny-ref.parquet'));
    // heartbeats close most bars: those rows must be on both sides too
    expect(t.source.filter((s) => s === 'heartbeat').length).toBeGreaterThan(100);
    expect(new Set(t.source)).toEqual(new Set(['heartbeat', 'trade', 'quote', 'book', 'news', 'fundamental']));
  });

  it('the CSV reference equals the Parquet reference exactly (DuckDB writes round-trip decimals)', () => {
    const d = diff(join(dir, 'tiny-ref.csv'), join(dir, 'tiny-ref.parquet'), join(dir, 'csv.json'), 'exact');
    expect(d.status, d.stdout).toBe(0);
    expect(d.report.onlyInA + d.report.onlyInB + d.report.mismatchedCells).toBe(0);
  });

  it('the projection is exactly what a replay of only those four factors writes', async () => {
    const only = DEFAULT_FACTORS.filter((f) => (REFERENCE_COLUMNS as readonly string[]).includes(f.name));
    expect(only.map((f) => f.name).sort()).toEqual([...REFERENCE_COLUMNS].sort());
    await runReplay({ catalog: cat, date: DATE, out: join(dir, 'tiny-four.parquet'), factors: only, progress: false });
    const d = diff(join(dir, 'tiny-proj.parquet'), join(dir, 'tiny-four.parquet'), join(dir, 'four.json'), 'exact');
    expect(d.status, d.stdout).toBe(0);
    expect(d.report.onlyInA + d.report.onlyInB + d.report.mismatchedCells).toBe(0);
  });

  it('a deliberately wrong reference (ma_20m over 21 bars) is caught: parity diff exits 1', async () => {
    await writeReference({ catalog: cat, date: DATE, out: join(dir, 'tiny-wrong.parquet'), windows: { ma_20m: 21 } });
    const d = diff(join(dir, 'tiny-proj.parquet'), join(dir, 'tiny-wrong.parquet'), join(dir, 'wrong.json'));
    expect(d.status).toBe(1);
    expect(d.report.verdict).toBe('skew');
    const by = Object.fromEntries(d.report.factors.map((f) => [f.factor, f]));
    expect(by.ma_20m.mismatched).toBeGreaterThan(100);
    for (const c of ['ma_5m', 'ma_60m', 'vwap_session']) expect(by[c].mismatched, c).toBe(0);
    expect(d.stdout).toMatch(/first divergence per symbol/);
    console.log(`[cross-impl] wrong window caught: ${by.ma_20m.mismatched} ma_20m cells differ (max rel ${by.ma_20m.maxRel.toExponential(2)}), ${d.report.onlyInA}/${d.report.onlyInB} heartbeat rows on one side only`);
  });
});

describe('a synthetic day with 2% repeated and 2% late deliveries (sequence guard and late-bar rules)', () => {
  const DATE = '2024-03-05';
  let summary: ReferenceSummary;
  beforeAll(async () => {
    const cat = join(dir, 'late');
    await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: cat, duplicateFraction: 0.02, lateFraction: 0.02 });
    const replay = await runReplay({ catalog: cat, date: DATE, out: join(dir, 'late-replay.parquet'), progress: false });
    expect(replay.duplicates).toBeGreaterThan(0);
    expect(replay.late).toBeGreaterThan(0);
    summary = await writeReference({ catalog: cat, date: DATE, out: join(dir, 'late-ref.parquet') });
    await projectFactorTable(join(dir, 'late-replay.parquet'), REFERENCE_COLUMNS, join(dir, 'late-proj.parquet'));
  });

  it('agrees within rel:1e-12, with repeated deliveries dropped and late trades kept out of the bars', () => {
    expect(summary.duplicatesDropped).toBeGreaterThan(0);
    expect(summary.lateForBar).toBeGreaterThan(0);
    expectParity('synthetic day, 2% repeated + 2% late', diff(join(dir, 'late-proj.parquet'), join(dir, 'late-ref.parquet'), join(dir, 'late.json')));
  });
});

describe.skipIf(!REAL_TAQ.present)('parity reference on real TAQ trades and quotes (2018-01-03, after import)', () => {
  const DATE = '2018-01-03';
  let cat: string;
  beforeAll(() => {
    cat = join(dir, 'taq');
    ok('datasets', 'import', '--format', 'taq', '--in', TAQ, '--out', cat);
    ok('replay', '--catalog', cat, '--date', DATE, '--out', join(dir, 'taq-replay.parquet'));
    ok('parity', 'reference', '--catalog', cat, '--date', DATE, '--out', join(dir, 'taq-ref.parquet'), '--replay', join(dir, 'taq-replay.parquet'), '--replay-out', join(dir, 'taq-proj.parquet'));
  });

  it('the whole day agrees within rel:1e-12 on every row, with every moving average warmed up', async () => {
    expectParity('TAQ 2018-01-03', diff(join(dir, 'taq-proj.parquet'), join(dir, 'taq-ref.parquet'), join(dir, 'taq.json')));
    const n = await nonNull(join(dir, 'taq-ref.parquet'));
    for (const c of REFERENCE_COLUMNS) expect(n[c], c).toBeGreaterThan(10_000);
  });

  it('the same selection flags (--symbols, --from, --to) give the same rows on both sides', () => {
    const sel = ['--symbols', 'XXX', '--from', '14:30', '--to', '16:00'];
    ok('replay', '--catalog', cat, '--date', DATE, ...sel, '--out', join(dir, 'taqw-replay.parquet'));
    ok('parity', 'reference', '--catalog', cat, '--date', DATE, ...sel, '--out', join(dir, 'taqw-ref.parquet'), '--replay', join(dir, 'taqw-replay.parquet'), '--replay-out', join(dir, 'taqw-proj.parquet'));
    const d = diff(join(dir, 'taqw-proj.parquet'), join(dir, 'taqw-ref.parquet'), join(dir, 'taqw.json'));
    expectParity('TAQ 2018-01-03 14:30-16:00', d);
    expect(d.report.matchedRows).toBeGreaterThan(10_000);
  });
});

describe.skipIf(!REAL_BINANCE.present)('parity reference on real Binance BTCUSDT (2024-08-08 from 23:56, after import)', () => {
  it('agrees within rel:1e-12: ns receive times, an L2 book, and trades whose exchange time passes midnight', async () => {
    const DATE = '2024-08-08';
    const cat = join(dir, 'binance');
    ok('datasets', 'import', '--format', 'binance', '--in', BINANCE, '--out', cat);
    // the last four minutes of the receive date: they hold the midnight crossing
    ok('replay', '--catalog', cat, '--date', DATE, '--from', '23:56', '--out', join(dir, 'bn-replay.parquet'));
    ok('parity', 'reference', '--catalog', cat, '--date', DATE, '--from', '23:56', '--out', join(dir, 'bn-ref.parquet'), '--replay', join(dir, 'bn-replay.parquet'), '--replay-out', join(dir, 'bn-proj.parquet'));
    expectParity('Binance 2024-08-08', diff(join(dir, 'bn-proj.parquet'), join(dir, 'bn-ref.parquet'), join(dir, 'bn.json')));
    // the last trades of the receive date carry an exchange time past midnight: a new VWAP session
    const t = await readFactorTable(join(dir, 'bn-ref.parquet'));
    const midnight = BigInt(Date.UTC(2024, 7, 9)) * 1_000_000n;
    expect(t.source.filter((s, i) => s === 'trade' && t.tsEvent[i] >= midnight).length).toBeGreaterThan(0);
  });
});
