/**
 * The release gate's judgement with figures made up here (no timing: the real run is in .ci/run),
 * the committed budgets and baseline, and the CLI's refusals, which happen before any benchmark.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FactorBenchResult } from './factor-bench.ts';
import { checkFigure, evaluateGate, fmtValue, gateExitCode, gateSummary, limitOf, parseBaseline, parseBudgets, renderGateTable, updatedBaseline, worseBy, type Baseline, type Budgets, type ModeBudgets } from './gate-check.ts';
import { extractFigures, figureSpec, FIGURES, identicalColumnsPct, READS, type BenchResults, type FigureSpec } from './gate-figures.ts';
import type { HistoricalBenchResult, HistoricalPhaseResult } from './historical-bench.ts';
import { DEFAULT_BASELINE, DEFAULT_BUDGETS } from './gate.ts';
import type { LiveBenchResult } from './live-bench.ts';
import type { ReplayBenchResult } from './replay-bench.ts';
import type { ReportBenchResult } from './report-bench.ts';
import type { TrainingSetBenchResult } from './training-set-bench.ts';
import type { WideBenchResult } from './wide-bench.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'lockstep-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (id: string): FigureSpec => figureSpec(id)!;
const NS = spec('factors.whole_set_ns'); // lower is better
const RATE = spec('live.sustainable_rate'); // higher is better
const mode = (figures: ModeBudgets['figures'], margin = 0.25): ModeBudgets => ({ margin, figures });

describe('margins', () => {
  it('measure how many times worse a value is, in either direction', () => {
    expect(worseBy(150, 100, 'lower')).toBe(1.5);
    expect(worseBy(50, 100, 'lower')).toBe(0.5);
    expect(worseBy(50, 100, 'higher')).toBe(2);
    expect(worseBy(200, 100, 'higher')).toBe(0.5);
    expect(limitOf(100, 0.25, 'lower')).toBe(125);
    expect(limitOf(100, 0.25, 'higher')).toBe(80);
  });
});

describe('checkFigure', () => {
  it('passes a lower-is-better figure up to budget x (1 + margin) and breaches beyond', () => {
    const m = mode({ [NS.id]: { budget: 1000 } });
    expect(checkFigure(NS, 1000, m, null, undefined).verdict).toBe('pass');
    expect(checkFigure(NS, 1249, m, null, undefined).verdict).toBe('pass');
    const c = checkFigure(NS, 1251, m, null, undefined);
    expect(c.verdict).toBe('breach');
    expect(c.budgetLimit).toBe(1250);
    expect(c.reasons.join()).toMatch(/over budget/);
  });

  it('passes a higher-is-better figure down to budget / (1 + margin) and breaches below', () => {
    const m = mode({ [RATE.id]: { budget: 20_000, margin: 0.6 } });
    expect(checkFigure(RATE, 12_600, m, null, undefined).verdict).toBe('pass');
    const c = checkFigure(RATE, 12_400, m, null, undefined);
    expect(c.verdict).toBe('breach');
    expect(c.margin).toBe(0.6);
    expect(c.budgetLimit).toBe(12_500);
  });

  it('uses the mode margin when the entry states none', () => {
    expect(checkFigure(NS, 1400, mode({ [NS.id]: { budget: 1000 } }, 0.5), null, undefined).verdict).toBe('pass');
    expect(checkFigure(NS, 1400, mode({ [NS.id]: { budget: 1000 } }, 0.3), null, undefined).verdict).toBe('breach');
  });

  it('catches a regression against the baseline well inside the budget', () => {
    const m = mode({ [NS.id]: { budget: 2000 } });
    const ok = checkFigure(NS, 1100, m, 1000, undefined);
    expect(ok.verdict).toBe('pass');
    expect(ok.ratio).toBeCloseTo(1.1, 12);
    const worse = checkFigure(NS, 1300, m, 1000, undefined);
    expect(worse.verdict).toBe('breach');
    expect(worse.reasons).toHaveLength(1);
    expect(worse.reasons[0]).toMatch(/regressed vs baseline/);
    expect(worse.baselineLimit).toBe(1250);
    // faster than baseline is never a breach
    expect(checkFigure(NS, 10, m, 1000, undefined).verdict).toBe('pass');
  });

  it('reports both reasons when over budget and regressed', () => {
    const c = checkFigure(RATE, 1000, mode({ [RATE.id]: { budget: 20_000 } }), 30_000, undefined);
    expect(c.reasons).toHaveLength(2);
  });

  it('gates on the baseline alone when an entry has no budget', () => {
    const m = mode({ [NS.id]: {} });
    expect(checkFigure(NS, 5000, m, null, undefined).verdict).toBe('pass');
    expect(checkFigure(NS, 5000, m, 1000, undefined).verdict).toBe('breach');
  });

  it('breaches a gated figure that was not measured or is not finite', () => {
    const m = mode({ [NS.id]: { budget: 1000 } });
    expect(checkFigure(NS, null, m, 900, undefined).reasons.join()).toMatch(/not measured/);
    expect(checkFigure(NS, Number.NaN, m, 900, undefined).verdict).toBe('breach');
    expect(checkFigure(RATE, 0, mode({ [RATE.id]: { budget: 1 } }), null, undefined).verdict).toBe('breach');
  });

  it('shows a figure without an entry as info, never a breach', () => {
    const c = checkFigure(NS, 1e9, mode({}), 1, undefined);
    expect(c.verdict).toBe('info');
    expect(c.margin).toBeNull();
    expect(checkFigure(NS, null, mode({}), null, undefined).verdict).toBe('info');
  });

  it('reports the goal as met or not without affecting the verdict', () => {
    const m = mode({ [NS.id]: { budget: 1000 } });
    const c = checkFigure(NS, 868, m, null, { value: 300, source: 'issue' });
    expect(c.verdict).toBe('pass');
    expect(c.goalMet).toBe(false);
    expect(checkFigure(NS, 250, m, null, { value: 300, source: 'issue' }).goalMet).toBe(true);
    expect(checkFigure(RATE, 60_000, mode({}), null, { value: 50_000, source: 'issue' }).goalMet).toBe(true);
    expect(checkFigure(NS, null, mode({}), null, { value: 300, source: 'issue' }).goalMet).toBeNull();
  });
});

// ---------- results as the benchmarks return them (only the fields the gate reads) ----------

function phase(p: 'raw' | 'merge' | 'replay' | 'encode' | 'replay-arrow', perSec: number, maxRssMb: number) {
  return { phase: p, events: 1000, seconds: 1000 / perSec, perSec, maxRssMb };
}

function results(over: { readsOmit?: string } = {}): BenchResults {
  const replay: ReplayBenchResult = {
    preset: 'day',
    events: 1000,
    raw: phase('raw', 3_000_000, 200),
    merge: phase('merge', 1_500_000, 600),
    replay: phase('replay', 300_000, 800),
    encode: phase('encode', 1_200_000, 900),
    replayArrow: phase('replay-arrow', 600_000, 850),
    ratios: { mergeVsRaw: 0.5, replayVsRaw: 0.1, replayRowsVsEncode: 0.25, replayArrowVsRaw: 0.2 },
  };
  const factors = {
    wholeSet: { nsPerEvent: 870, minNsPerEvent: 850, runs: [870] },
    emptyFold: { nsPerEvent: 110, minNsPerEvent: 100, runs: [110] },
    foldVsPeer: { wholeRatio: 1.5, emptyRatio: 0.4, wholeNsPerEvent: 850, emptyNsPerEvent: 100 },
    peer: [
      { indicator: 'EMA(12)', oursNs: 8, peerNs: 28, ratio: 3.5, finalAbsDiff: 0 },
      { indicator: 'RSI(14)', oursNs: 16, peerNs: 256, ratio: 16, finalAbsDiff: 0 },
      { indicator: 'MACD(12,26,9)', oursNs: 26, peerNs: 130, ratio: 5, finalAbsDiff: 0 },
    ],
    // the kernel children (bench/factor-bench-kernels.ts): what the gate's kernel ratios read
    kernels: {
      jit: { mode: 'jit', flags: [], rounds: 300, cpuSeconds: 1.5, peer: [
        { indicator: 'EMA(12)', oursNs: 5.3, peerNs: 5.8, ratio: 1.08, finalAbsDiff: 0 },
        { indicator: 'RSI(14)', oursNs: 13, peerNs: 104, ratio: 8, finalAbsDiff: 0 },
        { indicator: 'MACD(12,26,9)', oursNs: 6, peerNs: 45, ratio: 7.4, finalAbsDiff: 0 },
      ] },
      interp: { mode: 'interp', flags: ['--jitless'], rounds: 150, cpuSeconds: 2.5, peer: [
        { indicator: 'EMA(12)', oursNs: 103, peerNs: 160, ratio: 1.55, finalAbsDiff: 0 },
        { indicator: 'RSI(14)', oursNs: 285, peerNs: 1840, ratio: 6.45, finalAbsDiff: 0 },
        { indicator: 'MACD(12,26,9)', oursNs: 410, peerNs: 820, ratio: 2, finalAbsDiff: 0 },
      ] },
    },
  } as unknown as FactorBenchResult;
  const reads = [
    { name: READS.raw, p50Ms: 0.15, p99Ms: 0.25, n: 5000 },
    { name: READS.client1, p50Ms: 0.15, p99Ms: 0.3, n: 5000 },
    { name: READS.client100, p50Ms: 1.2, p99Ms: 5, n: 2000 },
    { name: READS.http1, p50Ms: 0.5, p99Ms: 4.5, n: 3000 },
    { name: READS.http100, p50Ms: 5, p99Ms: 11, n: 1000 },
  ].filter((r) => r.name !== over.readsOmit);
  const live: LiveBenchResult = {
    // the overload run first: the gated run is the lowest rate, wherever it is
    rates: [
      { target: 50_000, achieved: 27_000, latencyMs: { n: 1, p50: 3800, p99: 6100, p999: 6200, max: 6300 }, latencyRedisMs: { n: 1, p50: 3700, p99: 6000, p999: 6100, max: 6200 } },
      {
        target: 10_000,
        achieved: 9_990,
        latencyMs: { n: 1, p50: 3, p99: 40, p999: 70, max: 80 },
        latencyRedisMs: { n: 1, p50: 3, p99: 38, p999: 66, max: 79 },
        peer: { achieved: 9_995, latencyMs: { n: 1, p50: 1, p99: 5, p999: 9, max: 12 }, latencyRedisMs: { n: 1, p50: 1, p99: 5, p999: 8, max: 11 }, load: { seconds: 10, cpu: { worker: 0.4, redis: 0.4, bench: 0.5 }, runQueue: null, redisStallMs: { fastCommand: 1, command: 2 } } },
      },
    ],
    sustainable: { events: 300_000, seconds: 10, perSec: 30_000, startupSeconds: 1, perSecAfterStartup: 33_000 },
    reads,
  };
  const trainingSet: TrainingSetBenchResult = {
    preset: 'day',
    symbols: 10,
    dates: ['2024-03-11', '2024-03-12'],
    events: 2_000_000,
    replay: { seconds: 10, eventsPerSec: 200_000, rows: 2_100_000 },
    trainingSet: { seconds: 16, eventsPerSec: 125_000, rows: 600_000, sample: 'every:1s', labels: 'fwd_return:5m,fwd_vol:5m' },
    ratio: 0.625,
  };
  return { replay, factors, live, trainingSet, historical: historical(), wide: wide(), report: report() };
}

/** A report benchmark's result: 1 M rows, the CLI 3x the raw decode, the slowest open 900 ms. */
function report(): ReportBenchResult {
  const run = { seconds: 6, cpuSeconds: 5, maxRssMb: 300 };
  return {
    preset: 'day',
    table: 'report-factors-day.parquet',
    rows: 1_000_000,
    rowGroups: 16,
    tableMb: 60,
    raw: { seconds: 2, cpuSeconds: 2, rowsPerSec: 500_000 },
    report: { seconds: 6, cpuSeconds: 5, maxRssMb: 320, rowsPerSec: 1_000_000 / 6, runs: [run, { ...run, maxRssMb: 320 }] },
    html: { bytes: 1_024_000, charts: 20, symbols: 10 },
    open: { medianMs: 700, maxMs: 900, medianReadyMs: 300, medianLoadMs: 690, runs: [{ ms: 700, readyMs: 300, loadMs: 690 }, { ms: 900, readyMs: 350, loadMs: 880 }] },
    ratios: { reportVsRaw: 3, reportCpuVsRaw: 2.5 },
    targets: { rssMb: 1024, openMs: 2000, rssMet: true, openMet: true },
    loadAvg: [1, 1, 1],
  };
}

/** A wide benchmark's result: the 1,000-column set 3x the default's fastest round, reads 1.5x raw. */
function wide(): WideBenchResult {
  const fold = (set: 'default' | 'wide', sink: 'none' | 'copy', ns: number, min: number) => ({ set, columns: set === 'wide' ? 1000 : 40, sink, nsPerEvent: ns, minNsPerEvent: min });
  return {
    preset: 'day',
    events: 200_000,
    rows: { default: 200_000, wide: 200_000 },
    fold: [fold('default', 'none', 320, 300), fold('default', 'copy', 400, 380), fold('wide', 'none', 1100, 900), fold('wide', 'copy', 3000, 2800)],
    foldRatio: 1100 / 320,
    copyRatio: 3000 / 400,
    reads: [
      { name: 'client 1 symbol x 1000 features', p50Ms: 0.5, p99Ms: 1.2, n: 5000 },
      { name: 'raw HMGET 1 x 1000 (peer, lean connection)', p50Ms: 0.4, p99Ms: 0.8, n: 5000 },
      { name: 'raw HMGET 1 x 1000 (peer, ioredis pipeline)', p50Ms: 0.6, p99Ms: 1.1, n: 5000 },
    ],
    readRatio: 1.5,
    goals: { foldRatio: 5, readRatio: 2 },
    node: 'v20',
  };
}

const FEATURES = ['mid', 'spread', 'ema_12'];
function side(p: HistoricalPhaseResult['phase'], seconds: number, maxRssMb: number, hashes = ['a', 'b', 'c'], rows = 200_000): HistoricalPhaseResult {
  return { phase: p, seconds, rows, maxRssMb, hashes, features: FEATURES, valued: 500_000 };
}

/** A historical benchmark's result; `duckdb` overrides DuckDB's tie-rule side (to make its values differ). */
function historical(duckdb: Partial<HistoricalPhaseResult> = {}): HistoricalBenchResult {
  const lockstep = side('lockstep', 4, 600);
  const d = { ...side('duckdb', 2, 650), ...duckdb };
  return { factorRows: 1_100_000, entityRows: 200_000, features: 3, lockstep, duckdb: d, duckdbPlain: side('duckdb-plain', 1.5, 800, ['a', 'x', 'c']), speedup: d.seconds / lockstep.seconds, identical: true, plainColumnsDiffering: 1 };
}

describe('extractFigures', () => {
  it('reads every figure from the three results', () => {
    const v = extractFigures(results());
    expect(Object.keys(v)).toEqual(FIGURES.map((f) => f.id));
    expect(v['replay.replay_vs_raw']).toBe(0.1);
    expect(v['replay.merge_rate']).toBe(1_500_000);
    expect(v['replay.peak_rss']).toBe(800);
    expect(v['replay.encode_rate']).toBe(1_200_000);
    expect(v['replay.replay_rows_vs_encode']).toBe(0.25);
    expect(v['factors.whole_set_ns']).toBe(850); // CPU-time median of the interleaved rounds, not the passes' 870
    expect(v['factors.fold_ns']).toBe(100);
    expect(v['factors.macd_ratio']).toBe(7.4); // the jit child's, not the bench process's own 5
    expect(v['factors.ema_interp_ratio']).toBe(1.55);
    expect(v['factors.rsi_interp_ratio']).toBe(6.45);
    expect(v['factors.whole_set_vs_peer']).toBe(1.5); // interleaved rounds' median, not the passes' ns
    expect(v['factors.fold_vs_peer']).toBe(0.4);
    expect(v['live.latency_p99']).toBe(40); // the lowest rate, not the overload run
    expect(v['live.achieved_vs_target']).toBeCloseTo(0.999, 12);
    expect(v['live.latency_p99_redis']).toBe(38);
    expect(v['live.echo_latency_p99']).toBe(5); // the echo relay peer of the same (lowest) rate run
    expect(v['live.latency_p99_vs_echo']).toBe(8);
    expect(v['live.sustainable_rate']).toBe(33_000); // after start-up
    expect(v['live.read_client1_vs_raw']).toBeCloseTo(1.2, 12);
    expect(v['live.read_http1_vs_raw']).toBeCloseTo(18, 12);
    expect(v['live.read_http100_p99']).toBe(11);
    expect(v['training.vs_replay']).toBe(0.625);
    expect(v['training.rate']).toBe(125_000);
    expect(v['training.replay_rate']).toBe(200_000);
    expect(v['historical.vs_duckdb']).toBe(0.5); // DuckDB 2 s ÷ ours 4 s
    expect(v['historical.identical']).toBe(100);
    expect(v['historical.rate']).toBe(50_000); // 200k entity rows in 4 s
    expect(v['historical.duckdb_rate']).toBe(100_000);
    expect(v['historical.peak_rss']).toBe(600); // ours, not DuckDB's
    expect(v['replay.arrow_vs_raw']).toBe(0.2);
    expect(v['replay.arrow_rate']).toBe(600_000);
    expect(v['wide.fold_ratio']).toBe(3); // fastest rounds: 900 ÷ 300, not the medians' 1,100 ÷ 320
    expect(v['wide.fold_ns']).toBe(900);
    expect(v['wide.read_vs_raw']).toBe(1.5);
    expect(v['wide.read_p99']).toBe(1.2);
    expect(v['wide.read_raw_p99']).toBe(0.8); // the faster of the two raw connections
    expect(v['report.cpu_vs_raw']).toBe(2.5); // CPU ÷ CPU, not the wall-time ratio
    expect(v['report.rate']).toBeCloseTo(1_000_000 / 6, 9);
    expect(v['report.raw_rate']).toBe(500_000);
    expect(v['report.peak_rss']).toBe(320); // the largest over the CLI runs
    expect(v['report.open_ms']).toBe(900); // the slowest open, not the median
    expect(v['report.page_kb']).toBe(1000);
    for (const x of Object.values(v)) expect(Number.isFinite(x)).toBe(true);
  });

  it('counts the historical columns whose every cell is DuckDB\'s; 0 when the shapes differ', () => {
    expect(identicalColumnsPct(historical())).toBe(100);
    expect(identicalColumnsPct(historical({ hashes: ['a', 'B', 'c'] }))).toBeCloseTo(200 / 3, 12);
    expect(identicalColumnsPct(historical({ hashes: ['A', 'B', 'C'] }))).toBe(0);
    expect(identicalColumnsPct(historical({ rows: 199_999 }))).toBe(0);
    expect(identicalColumnsPct(historical({ features: ['mid', 'spread'], hashes: ['a', 'b'] }))).toBe(0);
    // the same hashes under other names are not the same columns
    expect(identicalColumnsPct(historical({ features: ['mid', 'ema_12', 'spread'] }))).toBeCloseTo(100 / 3, 12);
    expect(identicalColumnsPct(undefined)).toBeNull();
  });

  it('gives null for what did not run or is no longer reported', () => {
    const v = extractFigures({ replay: results().replay });
    expect(v['replay.replay_rate']).toBe(300_000);
    expect(v['factors.whole_set_ns']).toBeNull();
    expect(v['live.latency_p50']).toBeNull();
    const noRates = extractFigures({ live: { ...results().live!, rates: [] } });
    expect(noRates['live.latency_p50']).toBeNull();
    expect(noRates['live.achieved_vs_target']).toBeNull();
    // a run without the echo relay (--no-peer): no ratio, which the gate counts as a breach
    const noPeer = extractFigures({ live: { ...results().live!, rates: results().live!.rates.map(({ peer: _p, ...x }) => x) } });
    expect(noPeer['live.latency_p99_vs_echo']).toBeNull();
    expect(noPeer['live.latency_p99']).toBe(40);
    const noRaw = extractFigures(results({ readsOmit: READS.raw }));
    expect(noRaw['live.read_client1_vs_raw']).toBeNull();
    expect(noRaw['live.read_client1_p99']).toBe(0.3);
    for (const id of ['training.vs_replay', 'training.rate', 'historical.vs_duckdb', 'historical.identical', 'historical.peak_rss', 'wide.fold_ratio', 'wide.read_vs_raw']) expect(v[id]).toBeNull();
    // a replay run without its Arrow phase
    const { replayArrow: _a, ...noArrow } = results().replay!;
    expect(extractFigures({ replay: { ...noArrow, ratios: { mergeVsRaw: 0.5, replayVsRaw: 0.1 } } })['replay.arrow_vs_raw']).toBeNull();
  });
});

// ---------- the whole gate ----------

const budgets = (): Budgets => parseBudgets(JSON.parse(readFileSync(DEFAULT_BUDGETS, 'utf8')), DEFAULT_BUDGETS);

describe('evaluateGate', () => {
  const b: Budgets = {
    goals: { 'factors.whole_set_ns': { value: 300, source: 'issue' } },
    modes: {
      quick: mode({ 'factors.whole_set_ns': { budget: 1000 }, 'live.sustainable_rate': { budget: 20_000 }, 'live.read_client1_vs_raw': { budget: 2, margin: 1 } }),
      full: mode({}),
    },
  };
  const base: Baseline = { modes: { quick: { recordedAt: 't', machine: { node: 'v20', cpu: 'x', cores: 2, platform: 'linux' }, figures: { 'factors.whole_set_ns': 800 } } } };

  it('passes and exits 0 when every gated figure is within budget and baseline', () => {
    const r = evaluateGate('quick', extractFigures(results()), b, base);
    expect(r.verdict).toBe('pass');
    expect(r.breaches).toBe(0);
    expect(gateExitCode(r)).toBe(0);
    expect(r.figures.filter((f) => f.verdict !== 'info').map((f) => f.id).sort()).toEqual(['factors.whole_set_ns', 'live.read_client1_vs_raw', 'live.sustainable_rate']);
    expect(gateSummary(r)).toMatch(/^GATE PASS \(quick\): 3 figures .*goals met 0 of 1/);
  });

  it('exits 1 on one breach and names it', () => {
    const v = extractFigures(results());
    v['live.sustainable_rate'] = 15_000; // limit 16,000
    const r = evaluateGate('quick', v, b, base);
    expect(r.breaches).toBe(1);
    expect(gateExitCode(r)).toBe(1);
    expect(gateSummary(r)).toMatch(/^GATE BREACH \(quick\): 1 of 3 figures: live\.sustainable_rate/);
  });

  it('exits 1 when a gated figure went missing (a renamed read)', () => {
    const r = evaluateGate('quick', extractFigures(results({ readsOmit: READS.raw })), b, base);
    expect(r.figures.find((f) => f.id === 'live.read_client1_vs_raw')!.verdict).toBe('breach');
    expect(gateExitCode(r)).toBe(1);
  });

  it('exits 1 on a regression against the baseline only', () => {
    const v = extractFigures(results());
    v['factors.whole_set_ns'] = 999; // baseline 800 x (1 + 0.25) = 1000
    expect(gateExitCode(evaluateGate('quick', v, b, base))).toBe(0);
    v['factors.whole_set_ns'] = 1001;
    const r = evaluateGate('quick', v, b, base);
    expect(r.figures.find((f) => f.id === 'factors.whole_set_ns')!.reasons).toEqual([expect.stringMatching(/regressed vs baseline/)]);
    expect(gateExitCode(r)).toBe(1);
  });

  it('moves the fold\'s ns/event baseline with the same-run trading-signals peer (machine speed)', () => {
    const v0 = extractFigures(results());
    expect(v0['factors.peer_rate']).toBeCloseTo(1e9 / (28 + 256 + 130), 6);
    const bq: Budgets = { goals: {}, modes: { quick: mode({ 'factors.whole_set_ns': { margin: 1 } }), full: mode({}) } };
    const at = (ns: number, peerRate: number) => {
      const v = extractFigures(results());
      v['factors.whole_set_ns'] = ns;
      v['factors.peer_rate'] = peerRate;
      const bl: Baseline = { modes: { quick: { recordedAt: 't', machine: base.modes.quick!.machine, figures: { 'factors.whole_set_ns': 300, 'factors.peer_rate': 2_000_000 } } } };
      return evaluateGate('quick', v, bq, bl).figures.find((f) => f.id === 'factors.whole_set_ns')!;
    };
    // the peer runs at half its baseline speed: 1,000 ns against 300 / 0.5 = 600, limit 1,200
    const slow = at(1000, 1_000_000);
    expect(slow.machineScale).toBeCloseTo(0.5);
    expect(slow.baselineLimit).toBeCloseTo(1200);
    expect(slow.verdict).toBe('pass');
    // the same 1,000 ns with the peer at full speed is a regression (limit 600)
    expect(at(1000, 2_000_000).verdict).toBe('breach');
  });

  it('moves an absolute replay rate\'s baseline with the same-run raw decode (machine speed)', () => {
    const bq: Budgets = { goals: {}, modes: { quick: mode({ 'replay.merge_rate': { margin: 1 } }), full: mode({}) } };
    const at = (merge: number, raw: number | null) => {
      const v = extractFigures(results());
      v['replay.merge_rate'] = merge;
      v['replay.raw_rate'] = raw;
      const bl: Baseline = { modes: { quick: { recordedAt: 't', machine: base.modes.quick!.machine, figures: { 'replay.merge_rate': 900_000, 'replay.raw_rate': 1_800_000 } } } };
      return evaluateGate('quick', v, bq, bl).figures.find((f) => f.id === 'replay.merge_rate')!;
    };
    // the machine decodes at half its baseline speed: 400k against 900k x 0.5 = 450k, limit 225k
    const slow = at(400_000, 900_000);
    expect(slow.machineScale).toBeCloseTo(0.5);
    expect(slow.baselineLimit).toBeCloseTo(225_000);
    expect(slow.verdict).toBe('pass');
    // the same 400k is a regression when the decode ran at full speed (limit 450k)
    const fast = at(400_000, 1_800_000);
    expect(fast.verdict).toBe('breach');
    expect(fast.reasons[0]).toMatch(/regressed vs baseline .*× 1\.00 machine speed/);
    // the merge itself slowing 3x while decode holds is caught whatever the scaling
    expect(at(200_000, 900_000).verdict).toBe('breach');
    // no peer reading: the plain baseline applies
    const noPeer = at(400_000, null);
    expect(noPeer.machineScale).toBeNull();
    expect(noPeer.verdict).toBe('breach');
    expect(renderGateTable(evaluateGate('quick', { ...extractFigures(results()), 'replay.raw_rate': 900_000 }, bq, { modes: { quick: { recordedAt: 't', machine: base.modes.quick!.machine, figures: { 'replay.merge_rate': 900_000, 'replay.raw_rate': 1_800_000 } } } }))).toMatch(/900\.0k events\/s \(machine × 0\.50\)/);
  });

  it('passes the made-up results of a healthy run under the committed budgets, both modes', () => {
    for (const m of ['quick', 'full'] as const) {
      const r = evaluateGate(m, extractFigures(results()), budgets(), { modes: {} });
      expect(r.figures.filter((f) => f.verdict === 'breach').map((f) => f.id)).toEqual([]);
    }
  });

  it('breaches the committed budgets, both modes, on one historical column differing from DuckDB, and on the new figures gone missing', () => {
    for (const m of ['quick', 'full'] as const) {
      const r = evaluateGate(m, extractFigures({ ...results(), historical: historical({ hashes: ['a', 'b', 'X'] }) }), budgets(), { modes: {} });
      const c = r.figures.find((f) => f.id === 'historical.identical')!;
      expect(r.figures.filter((f) => f.verdict === 'breach').map((f) => f.id)).toEqual(['historical.identical']);
      expect(c.value).toBeCloseTo(200 / 3, 12);
      expect(c.goalMet).toBe(false);
      const missing = evaluateGate(m, extractFigures({ ...results(), trainingSet: undefined, historical: undefined, wide: undefined }), budgets(), { modes: {} });
      expect(missing.figures.filter((f) => f.verdict === 'breach').map((f) => f.id).sort()).toEqual(['historical.identical', 'historical.peak_rss', 'historical.rate', 'historical.vs_duckdb', 'training.rate', 'training.vs_replay', 'wide.fold_ns', 'wide.fold_ratio', 'wide.read_p99', 'wide.read_vs_raw']);
    }
  });

  it('breaches the committed quick budgets and baseline when the training set or historicalFeatures regresses 4x against its same-run peer', () => {
    const base = parseBaseline(JSON.parse(readFileSync(DEFAULT_BASELINE, 'utf8')), DEFAULT_BASELINE);
    const healthy = { ...results(), trainingSet: { ...results().trainingSet!, ratio: base.modes.quick!.figures['training.vs_replay'] } };
    expect(evaluateGate('quick', extractFigures(healthy), budgets(), base).figures.filter((f) => f.id.startsWith('training.') || f.id.startsWith('historical.')).map((f) => [f.id, f.verdict])).toEqual([
      ['training.vs_replay', 'pass'],
      ['training.rate', 'pass'],
      ['training.replay_rate', 'info'],
      ['historical.vs_duckdb', 'pass'],
      ['historical.identical', 'pass'],
      ['historical.rate', 'pass'],
      ['historical.duckdb_rate', 'info'],
      ['historical.peak_rss', 'pass'],
    ]);
    const v = extractFigures(healthy);
    v['training.vs_replay']! /= 4;
    v['historical.vs_duckdb']! /= 4;
    const r = evaluateGate('quick', v, budgets(), base);
    // (the made-up replay and live figures are not the committed baseline's: only the new ones are looked at)
    expect(r.figures.filter((f) => f.verdict === 'breach' && /^(training|historical)\./.test(f.id)).map((f) => f.id)).toEqual(['training.vs_replay', 'historical.vs_duckdb']);
    expect(r.figures.find((f) => f.id === 'historical.vs_duckdb')!.reasons.join()).toMatch(/regressed vs baseline/);
  });

  it('breaches the committed quick budgets and baseline when the fold does its work twice, not at its measured spread', () => {
    const base = parseBaseline(JSON.parse(readFileSync(DEFAULT_BASELINE, 'utf8')), DEFAULT_BASELINE);
    const b = base.modes.quick!.figures;
    const judge = (k: number) => {
      const v = extractFigures(results());
      v['factors.whole_set_vs_peer'] = b['factors.whole_set_vs_peer'] * k;
      v['factors.fold_vs_peer'] = b['factors.fold_vs_peer'] * k;
      return evaluateGate('quick', v, budgets(), base).figures.filter((f) => f.id.endsWith('_vs_peer')).map((f) => f.verdict);
    };
    // 10 unchanged quick gates read up to 1.11x (whole) and 1.07x (empty) their medians, the
    // baselines; the fold doing its work twice read 1.81-2.06x and 1.69-1.72x (bench/RESULTS.md)
    expect(judge(1.11)).toEqual(['pass', 'pass']);
    expect(judge(1.69)).toEqual(['breach', 'breach']);
  });

  it('breaches the committed quick baseline when a kernel does its work twice, not at its measured spread', () => {
    const base = parseBaseline(JSON.parse(readFileSync(DEFAULT_BASELINE, 'utf8')), DEFAULT_BASELINE);
    const b = base.modes.quick!.figures;
    const ids = ['factors.ema_interp_ratio', 'factors.rsi_interp_ratio', 'factors.macd_interp_ratio', 'factors.ema_ratio', 'factors.rsi_ratio', 'factors.macd_ratio'];
    const judge = (k: Record<string, number>) => {
      const v = extractFigures(results());
      for (const id of ids) v[id] = b[id] * (k[id] ?? 1);
      return evaluateGate('quick', v, budgets(), base).figures.filter((f) => ids.includes(f.id)).map((f) => [f.id, f.verdict]);
    };
    const all = (k: number) => Object.fromEntries(ids.map((id) => [id, k]));
    // 15 unchanged factors-only quick gates (kernel children) read down to 0.91x (jit MACD) to 0.98x
    // (jit RSI) the baselines, the first ten's medians (bench/RESULTS.md, 2026-12-07 evening)
    expect(judge(all(0.91)).every(([, v]) => v === 'pass')).toBe(true);
    // a kernel doing its work twice (gate-slowdown, 3 gates each) read at most: interpreter EMA
    // 0.63x its baseline, RSI 0.58x, MACD 0.64x; jit RSI 0.58x, MACD 0.59x (jit EMA 0.95-0.99x: not caught there)
    for (const [id, k] of [['factors.ema_interp_ratio', 0.63], ['factors.rsi_interp_ratio', 0.58], ['factors.macd_interp_ratio', 0.64], ['factors.rsi_ratio', 0.58], ['factors.macd_ratio', 0.59]] as const) {
      expect(judge({ [id]: k }).filter(([, v]) => v === 'breach').map(([x]) => x)).toEqual([id]);
    }
  });

  it('moves historicalFeatures\' absolute rate baseline with DuckDB\'s in the same run', () => {
    const bq: Budgets = { goals: {}, modes: { quick: mode({ 'historical.rate': { margin: 1 } }), full: mode({}) } };
    const bl: Baseline = { modes: { quick: { recordedAt: 't', machine: base.modes.quick!.machine, figures: { 'historical.rate': 50_000, 'historical.duckdb_rate': 100_000 } } } };
    // both sides at half speed: 25k against 50k x 0.5, a pass; ours alone at a third, a breach
    const slow = evaluateGate('quick', extractFigures({ historical: { ...historical({ seconds: 4 }), lockstep: side('lockstep', 8, 600) } }), bq, bl).figures.find((f) => f.id === 'historical.rate')!;
    expect(slow.machineScale).toBeCloseTo(0.5);
    expect(slow.verdict).toBe('pass');
    expect(evaluateGate('quick', extractFigures({ historical: { ...historical(), lockstep: side('lockstep', 12, 600) } }), bq, bl).figures.find((f) => f.id === 'historical.rate')!.verdict).toBe('breach');
  });

  it('breaches the committed budgets when the whole set runs 3x slower', () => {
    const v = extractFigures(results());
    v['factors.whole_set_ns'] = 3 * 870;
    const r = evaluateGate('full', v, budgets(), { modes: {} });
    expect(r.figures.filter((f) => f.verdict === 'breach').map((f) => f.id)).toEqual(['factors.whole_set_ns']);
  });
});

describe('renderGateTable', () => {
  it('prints one markdown row per figure with budget, baseline, ratio, margin, verdict and goal', () => {
    const v = extractFigures(results());
    v['factors.whole_set_ns'] = 1300;
    const b = budgets();
    const r = evaluateGate('quick', v, b, { modes: { quick: { recordedAt: 't', machine: { node: 'v20', cpu: 'x', cores: 2, platform: 'linux' }, figures: { 'factors.whole_set_ns': 1000, 'replay.replay_vs_raw': 0.1 } } } });
    const t = renderGateTable(r).split('\n');
    expect(t[0]).toBe('| figure | value | budget | baseline | ratio | margin | verdict | goal |');
    expect(t).toHaveLength(FIGURES.length + 2);
    const nsEntry = b.modes.quick.figures['factors.whole_set_ns'];
    const nsMargin = nsEntry.margin ?? b.modes.quick.margin;
    const ns = t.find((l) => l.startsWith('| fold + whole default factor set'))!;
    expect(ns).toBe(`| fold + whole default factor set (CPU time, interleaved rounds, median) (absolute) | 1,300 ns/event | ≤ ${fmtValue(nsEntry.budget!, 'ns/event')} | 1,000 ns/event | 1.30 | ${Math.round(nsMargin * 100)}% | ${1300 > 1000 * (1 + nsMargin) ? '**BREACH**: regressed vs baseline (limit 1,500 ns/event with the margin)' : 'pass'} | ≤ 300 ns/event: **not met** |`);
    const rrEntry = b.modes.quick.figures['replay.replay_vs_raw'];
    const rr = t.find((l) => l.startsWith('| full replay rate ÷ raw'))!;
    expect(rr).toContain(`| 0.10× | ≥ ${rrEntry.budget!.toFixed(2)}× | 0.10× | 1.00 | ${Math.round((rrEntry.margin ?? b.modes.quick.margin) * 100)}% | pass | — |`);
    expect(t.find((l) => l.startsWith('| raw parquet-wasm decode (peer)'))).toContain('| — | info |');
    const limit = limitOf(nsEntry.budget!, nsMargin, 'lower');
    v['factors.whole_set_ns'] = limit * 1.01;
    const breach = renderGateTable(evaluateGate('quick', v, b, { modes: {} }));
    expect(breach).toContain(`| **BREACH**: over budget (limit ${fmtValue(limit, 'ns/event')} with the margin) |`);
  });

  it('formats values compactly with their units', () => {
    expect(fmtValue(2_345_678, 'events/s')).toBe('2.35 M events/s');
    expect(fmtValue(31_234, 'events/s')).toBe('31.2k events/s');
    expect(fmtValue(0.27412, 'ms')).toBe('0.274 ms');
    expect(fmtValue(820.4, 'MB')).toBe('820 MB');
    expect(fmtValue(1.8712, '×')).toBe('1.87×');
    expect(fmtValue(100, '%')).toBe('100%');
    expect(fmtValue(200 / 3, '%')).toBe('66.7%');
    expect(fmtValue(null, 'ms')).toBe('—');
  });
});

describe('budgets and baseline files', () => {
  it('the committed budgets gate every figure but the peers, in both modes, with goals on known figures', () => {
    const b = budgets();
    const peers = ['replay.raw_rate', 'replay.encode_rate', 'live.read_raw_p99', 'live.echo_latency_p99', 'factors.peer_rate', 'training.replay_rate', 'historical.duckdb_rate', 'wide.read_raw_p99', 'report.raw_rate'];
    for (const m of ['quick', 'full'] as const) {
      expect(Object.keys(b.modes[m].figures).sort()).toEqual(FIGURES.map((f) => f.id).filter((id) => !peers.includes(id)).sort());
      for (const e of Object.values(b.modes[m].figures)) expect(e.budget).toBeGreaterThan(0);
    }
    expect(Object.keys(b.goals).length).toBeGreaterThan(5);
    // the hard check: not one column may differ from DuckDB's, whatever the noise
    for (const m of ['quick', 'full'] as const) expect(b.modes[m].figures['historical.identical']).toEqual({ budget: 100, margin: 0 });
    expect(b.goals['training.vs_replay'].value).toBe(0.8);
    expect(b.goals['historical.vs_duckdb'].value).toBe(1);
    expect(b.goals['historical.peak_rss'].value).toBe(1024);
  });

  it('the committed baseline parses and holds the quick mode', () => {
    const base = parseBaseline(JSON.parse(readFileSync(DEFAULT_BASELINE, 'utf8')), DEFAULT_BASELINE);
    expect(Object.keys(base.modes.quick!.figures).length).toBeGreaterThan(15);
    for (const id of ['training.vs_replay', 'historical.vs_duckdb', 'historical.identical', 'historical.peak_rss']) expect(base.modes.quick!.figures[id]).toBeGreaterThan(0);
  });

  it('rejects a budget file with an unknown figure or a bad number, naming the field', () => {
    const good = JSON.parse(readFileSync(DEFAULT_BUDGETS, 'utf8'));
    const unknown = structuredClone(good);
    unknown.modes.quick.figures['replay.warp_speed'] = { budget: 1 };
    expect(() => parseBudgets(unknown, 'b.json')).toThrow(/b\.json, field modes\.quick\.figures\.replay\.warp_speed: unknown figure/);
    const negative = structuredClone(good);
    negative.modes.full.figures['factors.fold_ns'].budget = -5;
    expect(() => parseBudgets(negative, 'b.json')).toThrow(/field modes\.full\.figures\.factors\.fold_ns\.budget: must be a number > 0 \(value -5\)/);
    const noMode = structuredClone(good);
    delete noMode.modes.full;
    expect(() => parseBudgets(noMode, 'b.json')).toThrow(/modes\.full/);
  });

  it('updating one mode of the baseline keeps the other and drops non-finite figures', () => {
    const machine = { node: 'v20', cpu: 'x', cores: 2, platform: 'linux' };
    const prev: Baseline = { modes: { full: { recordedAt: 'old', machine, figures: { 'factors.fold_ns': 100 } } } };
    const v = extractFigures(results());
    v['live.latency_p99'] = Number.NaN;
    const next = updatedBaseline(prev, 'quick', v, 'new', machine);
    expect(next.modes.full).toEqual(prev.modes.full);
    expect(next.modes.quick!.figures['factors.fold_ns']).toBe(100); // the interleaved rounds' median
    expect('live.latency_p99' in next.modes.quick!.figures).toBe(false);
    expect(parseBaseline(JSON.parse(JSON.stringify(next)), 'x')).toEqual(next);
  });
});

describe('lockstep bench --gate (CLI refusals, before any benchmark runs)', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'bench', ...args], { encoding: 'utf8', cwd: ROOT });

  it('exits 2 on a bad budgets file, naming the file and field', () => {
    const bad = join(dir, 'budgets.json');
    const b = JSON.parse(readFileSync(DEFAULT_BUDGETS, 'utf8'));
    b.modes.quick.margin = -1;
    writeFileSync(bad, JSON.stringify(b));
    const r = cli('--gate', '--quick', '--budgets', bad, '--json', join(dir, 'gate.json'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${bad}, field modes.quick.margin: must be a number ≥ 0 (value -1)`);
  });

  it('exits 2 without a baseline unless asked to record one', () => {
    const r = cli('--gate', '--quick', '--baseline', join(dir, 'none.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no baseline at .*none\.json; record one with --update-baseline/);
  });

  it('exits 2 on gate flags used wrongly', () => {
    const both = cli('replay', '--gate');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--gate runs every benchmark/);
    expect(cli('--quick').status).toBe(2);
    expect(cli('--gate', '--seconds', '3').status).toBe(2);
    const none = cli();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/choose a benchmark/);
  });
});
