/**
 * `lockstep bench factors`: what the fold and each default factor cost per event, on one core in
 * one process, with the npm package trading-signals measured in the same run as the peer for the
 * textbook indicators (EMA, RSI, MACD).
 *
 * - Events: a generated day (same catalog and `.complete` marker as `bench replay`), merged once and
 *   held in memory (the first `events` of them), so decode and merge are not in the figures.
 * - Fold: full passes of `applyEvent` with a no-op sink over the in-memory events, each pass on a
 *   fresh fold state (a second pass on the same state would see every event as a duplicate):
 *   the whole default set, an empty set (the fold's own cost: sequence guard, symbol lookup, row
 *   bookkeeping) and one set per default factor. Net = raw - empty.
 * - By kind: the whole and the empty set over each kind's events alone (book rows, quotes, trades,
 *   trades + heartbeats), so the cost of each path of the fold is measured, not inferred; a
 *   heartbeat's cost is the trades + heartbeats pass minus the trades pass. Each kind's factor
 *   state is independent of the others' (event count aside, which counts only that kind), so a
 *   kind folded alone does the work it does in the mix, minus the mix's cache effects.
 * - Peer: EMA(12), RSI(14), MACD(12,26,9) per update over one long seeded random walk, ours
 *   (core/kernels) against trading-signals' classes.
 * - Kernels again, in two fresh child processes (bench/factor-bench-kernels.ts): V8 flags that
 *   compile the same code in every process, and the interpreter alone. The gate reads these: in
 *   this process the EMA ratio moved 0.6-4.7x between runs of unchanged code.
 *
 * Tasks run round-robin (one tinybench Bench per round) after one discarded warm-up round, so a
 * burst of load from other work on a shared machine spreads over all tasks instead of skewing one,
 * and every task is measured with the fold's call sites in the same (megamorphic) state.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Kind, MarketEvent } from '../core/events.ts';
import { KINDS } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { applyEvent, createFactorSet, initFold, type FactorSet, type RowSink } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { formatFactorBench } from './factor-bench-format.ts';
import { PEER_CHUNK, peerChecksum, peerSetTask, peerTasks, peerVersion, randomWalk } from './factor-peer.ts';
import { measureKernels, type KernelRun } from './factor-bench-kernels.ts';
import { interleave, median as medianOf, medianRatio, ratioQuartiles, type ChunkTask } from './interleave.ts';
import { roundRobin, type RoundTask } from './round-robin.ts';

export type BenchPreset = 'tiny' | 'day' | 'big';

export interface FoldFigure {
  /** Median over measured runs of (pass time / events). */
  nsPerEvent: number;
  minNsPerEvent: number;
  /** ns per event of each measured run, in run order. */
  runs: number[];
}

export interface FactorFigure {
  name: string;
  inputs: readonly Kind[];
  /** Events of the factor's input kinds among the loaded events (a heartbeat counts once). */
  consumedEvents: number;
  /**
   * Events offered to the factor: its non-heartbeat input events, plus, when it reads heartbeats,
   * one per heartbeat per symbol seen so far (the fold offers each heartbeat to every symbol). A
   * factor that reads a shared derivation (bars, book) has its own `update` run only when the
   * derivation fires (a bar closed, a book update completed); the derivation's cost per offered
   * event is in its figure, counted once for the whole set.
   */
  updates: number;
  /** Median pass time / all events, fold overhead included. */
  nsPerEvent: number;
  /** Median pass time / consumed events, fold overhead included. */
  nsPerConsumedEvent: number;
  /** (median pass time - median empty-fold pass time) / all events. */
  netNsPerEvent: number;
  /** (median pass time - median empty-fold pass time) / consumed events. */
  netNsPerConsumedEvent: number;
  /** (median pass time - median empty-fold pass time) / updates. */
  netNsPerUpdate: number;
  /**
   * (fastest pass - fastest empty-fold pass) / all events: less sensitive than the median to load
   * from other processes on a shared machine, since interference only ever adds time.
   */
  netMinNsPerEvent: number;
}

/** One path of the fold: the whole and the empty set over one kind's events alone. */
export interface KindFigure {
  /** 'book', 'quote', 'trade', or 'heartbeat' (the trades + heartbeats pass minus the trades pass). */
  kind: 'book' | 'quote' | 'trade' | 'heartbeat';
  /** Events of the kind among the loaded events; for heartbeats, the symbol visits of the fan-out. */
  count: number;
  /** Median ns per event of the kind (per visit for heartbeats): whole set, empty set. */
  wholeNs: number;
  emptyNs: number;
  /** wholeNs - emptyNs: what the factors and derivations cost on that path. */
  netNs: number;
  /** netNs · count / all loaded events: that path's factor work spread over the whole mix. */
  netNsPerMixEvent: number;
}

export interface PeerFigure {
  indicator: 'EMA(12)' | 'RSI(14)' | 'MACD(12,26,9)';
  oursNs: number;
  peerNs: number;
  /** MACD only: ours reading each output through its own null check (the factor's access pattern). */
  oursPerOutputNullNs?: number;
  /** The peer's dedicated fast variant (e.g. FasterEMA), when its installed version has one. */
  peerFasterNs?: number;
  /**
   * Median over interleaved rounds of peer ns ÷ ours ns, both measured on the same chunk of prices
   * within the same few ms (bench/interleave.ts): > 1 means ours is faster. `oursNs` and `peerNs`
   * are the medians of each side's per-round ns.
   */
  ratio: number;
  /** Quartiles of the per-round ratios (how steady the median is). */
  ratioQuartiles?: [number, number];
  /** Prices per round for this indicator. */
  chunk?: number;
  /** |ours - peer| of the final value: the two compute the same indicator (seeds differ for EMA, long forgotten). */
  finalAbsDiff: number;
}

/**
 * The fold against the trading-signals peer, interleaved: each round folds the next chunk of the
 * loaded events through the empty set and through the whole set (each its own continuing state,
 * fresh when the chunks wrap) and runs the peer's EMA + RSI + MACD over a chunk of prices, in a
 * seeded random order. The ratios (median over rounds of fold ns/event ÷ peer ns/price) are what
 * the gate checks: the machine's speed cancels within a round.
 */
export interface FoldVsPeer {
  rounds: number;
  chunkEvents: number;
  peerChunk: number;
  /** Medians of per-round ns: per event for the two folds, per price (three updates) for the peer. */
  emptyNsPerEvent: number;
  wholeNsPerEvent: number;
  peerNsPerPrice: number;
  /** Median over rounds of empty-fold ns/event ÷ peer ns/price, and its quartiles. */
  emptyRatio: number;
  emptyQuartiles: [number, number];
  /** Median over rounds of whole-set ns/event ÷ peer ns/price, and its quartiles. */
  wholeRatio: number;
  wholeQuartiles: [number, number];
}

export interface FactorBenchResult {
  preset: BenchPreset;
  /** Events measured (held in memory). */
  events: number;
  /** Events in the selected day (the merge's input), of which the first `events` were loaded. */
  dayEvents: number;
  eventsByKind: Record<Kind, number>;
  /** Σ over heartbeats of the symbols seen before it: the fold's heartbeat fan-out. */
  heartbeatVisits: number;
  symbols: number;
  /** Measured runs per task (after one warm-up run). */
  runs: number;
  wholeSet: FoldFigure;
  emptyFold: FoldFigure;
  perFactor: FactorFigure[];
  /** Each path of the fold measured alone (fundamentals and news, a few hundred events, are left out). */
  byKind: KindFigure[];
  /** Σ per-factor net ns/event; compare with wholeSet - emptyFold. */
  sumNetNsPerEvent: number;
  /** Σ per-factor net-of-minimums ns/event; compare with the minimums of wholeSet - emptyFold. */
  sumNetMinNsPerEvent: number;
  peer: PeerFigure[];
  /** Interleaved rounds of the peer comparison (after 10 discarded ones). */
  peerRounds: number;
  foldVsPeer: FoldVsPeer;
  /**
   * The kernel comparison again, each mode in a fresh child process with V8 flags that make it
   * the same from one process to the next (bench/factor-bench-kernels.ts): what the gate's kernel
   * ratios read. Absent when the bench was run with `kernels: false`.
   */
  kernels?: { jit: KernelRun; interp: KernelRun };
  peerPackage: { name: string; version: string; fasterVariants: string };
  /** Length of the random-walk price series the peer comparison runs over. */
  peerPrices: number;
  goals: { wholeSetNs: number; rsiRatio: number; macdRatio: number; emaRatio: number; issuePeerNs: Record<string, number> };
  node: string;
}

const BENCH_DATE = '2024-03-15';
const GOALS = {
  wholeSetNs: 300,
  rsiRatio: 5,
  macdRatio: 5,
  emaRatio: 1,
  // trading-signals per update, as measured in the issue on this machine
  issuePeerNs: { 'EMA(12)': 7.8, 'RSI(14)': 96.8, 'MACD(12,26,9)': 55.4 },
};

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The preset's day catalog in `dir`, generated once (same layout and marker as `bench replay`). */
export async function ensureCatalog(dir: string, preset: BenchPreset, log: (s: string) => void): Promise<string> {
  const catalog = join(dir, `catalog-${preset}`);
  const marker = join(catalog, '.complete');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(marker)) {
    const { generateDay } = await import('../datasets/generate.ts');
    log(`generating the ${preset} preset into ${catalog} (once; reused by later runs)`);
    const g = await generateDay({ date: BENCH_DATE, symbols: preset === 'tiny' ? 5 : 50, seed: 42, preset, out: catalog, partBy: { buckets: 4 } });
    writeFileSync(marker, JSON.stringify({ events: g.total }));
  }
  return catalog;
}

/** The first `limit` merged events of the bench day, in replay order. */
export async function loadEvents(catalog: string, limit: number): Promise<{ events: MarketEvent[]; dayEvents: number }> {
  const { openSelection } = await import('../replay/run-replay.ts');
  const { EventMerge } = await import('../replay/merge.ts');
  const opened = await openSelection({ catalog, date: BENCH_DATE });
  const events: MarketEvent[] = [];
  try {
    const merge = new EventMerge(opened.cursors);
    for (let ev = merge.next(); ev !== null && events.length < limit; ev = merge.next()) events.push(ev);
  } finally {
    await opened.close();
  }
  return { events, dayEvents: opened.totalRows };
}

const noopSink: RowSink = () => {};

/** One pass of the fold over `events` on a fresh state; returns the applied count (a liveness check). */
function foldPass(set: FactorSet, events: readonly MarketEvent[]): number {
  const st = initFold();
  for (let i = 0; i < events.length; i++) applyEvent(set, st, events[i], noopSink);
  return st.stats.applied;
}

function foldFigure(msRuns: readonly number[], events: number): FoldFigure {
  const runs = msRuns.map((ms) => (ms * 1e6) / events);
  return { nsPerEvent: median(runs), minNsPerEvent: Math.min(...runs), runs };
}

/** Events per fold chunk and prices per peer chunk of `measureFoldVsPeer`: ~1-4 ms each on a 2-core VM. */
const FOLD_CHUNK = 10_000;
const FOLD_PEER_CHUNK = 5_000;

/**
 * The fold (empty and whole set) against the trading-signals peer, interleaved (see FoldVsPeer).
 * Round r folds chunk r mod K of `events` into each set's own state, which continues from the
 * chunk before and starts fresh at chunk 0; every chunk must apply as many events through the
 * whole set as through the empty one (a liveness check, as the round-robin passes have).
 */
function measureFoldVsPeer(whole: FactorSet, empty: FactorSet, events: readonly MarketEvent[], prices: Float64Array, rounds: number, log: (s: string) => void): FoldVsPeer {
  const c = Math.min(FOLD_CHUNK, events.length);
  const k = Math.max(1, Math.floor(events.length / c));
  const foldTask = (name: string, set: FactorSet, applied: number[]): ChunkTask => {
    let st = initFold();
    return {
      name,
      run: (round) => {
        const j = round % k;
        if (j === 0) st = initFold();
        const before = st.stats.applied;
        for (let i = j * c; i < (j + 1) * c; i++) applyEvent(set, st, events[i], noopSink);
        const done = st.stats.applied - before;
        if (applied[j] === undefined) applied[j] = done;
        else if (applied[j] !== done) throw new Error(`${name}: chunk ${j} applied ${done} events, ${applied[j]} in another pass`);
        return c;
      },
    };
  };
  const applied: number[] = [];
  const peerTask = peerSetTask(prices, FOLD_PEER_CHUNK);
  const tasks = [foldTask('(empty)', empty, applied), foldTask('(whole)', whole, applied), peerTask];
  log(`fold vs peer: empty and whole set over ${c.toLocaleString('en-US')}-event chunks, trading-signals EMA + RSI + MACD over ${Math.min(FOLD_PEER_CHUNK, prices.length).toLocaleString('en-US')}-price chunks, interleaved, 10 warm-up + ${rounds} rounds`);
  const run = interleave(tasks, Math.max(3, rounds), { seed: 43 });
  const e = run.ns.get('(empty)')!;
  const w = run.ns.get('(whole)')!;
  const p = run.ns.get(peerTask.name)!;
  return {
    rounds: run.rounds,
    chunkEvents: c,
    peerChunk: Math.min(FOLD_PEER_CHUNK, prices.length),
    emptyNsPerEvent: medianOf(e),
    wholeNsPerEvent: medianOf(w),
    peerNsPerPrice: medianOf(p),
    emptyRatio: medianRatio(e, p),
    emptyQuartiles: ratioQuartiles(e, p),
    wholeRatio: medianRatio(w, p),
    wholeQuartiles: ratioQuartiles(w, p),
  };
}

/**
 * Runs the factor benchmark and prints its table; writes the result as JSON to `opts.json` when
 * given. `events` caps the in-memory events (default 2,000,000), `runs` is the number of measured
 * rounds (default 5, at least 3), `peerPrices` the length of the peer comparison's price series
 * (default 1,000,000).
 */
export async function benchFactors(opts: {
  preset: BenchPreset;
  dir: string;
  json?: string;
  events?: number;
  runs?: number;
  peerPrices?: number;
  /** Interleaved rounds of the peer comparison (default 300) and of the fold against the peer (default 200). */
  peerRounds?: number;
  foldRounds?: number;
  /** The kernel children (default on); `kernelRounds` overrides each mode's rounds (tests). */
  kernels?: boolean;
  kernelRounds?: number;
  quiet?: boolean;
}): Promise<FactorBenchResult> {
  const log = opts.quiet ? () => {} : (s: string) => console.log(s);
  const runs = Math.max(3, opts.runs ?? 5);
  const catalog = await ensureCatalog(resolve(opts.dir), opts.preset, log);
  const { events, dayEvents } = await loadEvents(catalog, opts.events ?? 2_000_000);
  const n = events.length;
  if (n === 0) throw new Error(`no events in ${catalog} for ${BENCH_DATE}`);
  const eventsByKind = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  const symbols = new Set<string>();
  let heartbeatVisits = 0;
  for (const ev of events) {
    eventsByKind[ev.kind]++;
    if (ev.kind === 'heartbeat') heartbeatVisits += symbols.size;
    else symbols.add(ev.symbol);
  }
  log(`loaded ${n.toLocaleString('en-US')} of ${dayEvents.toLocaleString('en-US')} events (${symbols.size} symbols) into memory`);

  // fold passes
  const whole = createFactorSet(DEFAULT_FACTORS);
  const empty = createFactorSet([]);
  const singles = DEFAULT_FACTORS.map((f) => ({ f, set: createFactorSet([f]) }));
  const expectApplied = foldPass(empty, events);
  const check = (name: string, set: FactorSet) => () => {
    const applied = foldPass(set, events);
    if (applied !== expectApplied) throw new Error(`${name}: applied ${applied} events, the empty fold ${expectApplied}`);
  };
  const foldTasks: RoundTask[] = [
    { name: '(empty)', fn: check('(empty)', empty) },
    { name: '(whole)', fn: check('(whole)', whole) },
    ...singles.map(({ f, set }) => ({ name: f.name, fn: check(f.name, set) })),
  ];
  log(`fold: ${foldTasks.length} sets × (1 warm-up + ${runs}) passes over ${n.toLocaleString('en-US')} events`);
  const foldMs = roundRobin(foldTasks, runs, 1);
  const emptyFold = foldFigure(foldMs.get('(empty)')!, n);
  const wholeSet = foldFigure(foldMs.get('(whole)')!, n);
  const emptyMs = median(foldMs.get('(empty)')!);
  const emptyMinMs = Math.min(...foldMs.get('(empty)')!);
  const perFactor: FactorFigure[] = singles.map(({ f }: { f: AnyFactor }) => {
    const ms = median(foldMs.get(f.name)!);
    const consumed = f.inputs.reduce((a: number, k: Kind) => a + eventsByKind[k], 0);
    const updates = f.inputs.reduce((a: number, k: Kind) => a + (k === 'heartbeat' ? heartbeatVisits : eventsByKind[k]), 0);
    const per = (x: number, d: number) => (d > 0 ? (x * 1e6) / d : NaN);
    return {
      name: f.name,
      inputs: f.inputs,
      consumedEvents: consumed,
      updates,
      nsPerEvent: per(ms, n),
      nsPerConsumedEvent: per(ms, consumed),
      netNsPerEvent: per(ms - emptyMs, n),
      netNsPerConsumedEvent: per(ms - emptyMs, consumed),
      netNsPerUpdate: per(ms - emptyMs, updates),
      netMinNsPerEvent: per(Math.min(...foldMs.get(f.name)!) - emptyMinMs, n),
    };
  });

  // each path of the fold alone: the kind's events only, whole vs empty set, round-robin
  const only = (keep: readonly Kind[]) => events.filter((ev) => keep.includes(ev.kind));
  const groups = { book: only(['book']), quote: only(['quote']), trade: only(['trade']), tradeHeartbeat: only(['trade', 'heartbeat']) };
  const kindTasks: RoundTask[] = Object.entries(groups).flatMap(([g, evs]) => [
    { name: `${g} whole`, fn: () => void foldPass(whole, evs) },
    { name: `${g} empty`, fn: () => void foldPass(empty, evs) },
  ]);
  log(`by kind: ${kindTasks.length} passes × (1 warm-up + ${runs}) over each kind's events alone`);
  const kindMs = roundRobin(kindTasks, runs, 1);
  const medMs = (name: string) => median(kindMs.get(name)!);
  const kindFigure = (kind: KindFigure['kind'], count: number, wholeMs: number, emptyMs: number): KindFigure => {
    const per = (ms: number) => (count > 0 ? (ms * 1e6) / count : NaN);
    return { kind, count, wholeNs: per(wholeMs), emptyNs: per(emptyMs), netNs: per(wholeMs - emptyMs), netNsPerMixEvent: ((wholeMs - emptyMs) * 1e6) / n };
  };
  const byKind: KindFigure[] = [
    kindFigure('book', groups.book.length, medMs('book whole'), medMs('book empty')),
    kindFigure('quote', groups.quote.length, medMs('quote whole'), medMs('quote empty')),
    kindFigure('trade', groups.trade.length, medMs('trade whole'), medMs('trade empty')),
    kindFigure('heartbeat', heartbeatVisits, medMs('tradeHeartbeat whole') - medMs('trade whole'), medMs('tradeHeartbeat empty') - medMs('trade empty')),
  ];

  // peer comparison: ours and trading-signals side by side in short interleaved rounds, the ratio
  // a median of per-round ratios (issue 20 #6: measured in separate blocks of ~1 M prices, the EMA
  // ratio read 1.58-5.80x on unchanged code as the shared VM's speed drifted between the blocks)
  const peerN = opts.peerPrices ?? 1_000_000;
  const peerRounds = Math.max(3, opts.peerRounds ?? 300);
  const prices = randomWalk(peerN);
  const { tasks, finals } = peerTasks(prices);
  log(`peer: ${tasks.length} indicator loops interleaved, 10 warm-up + ${peerRounds} rounds (chunks of ${Object.values(PEER_CHUNK).map((c) => Math.min(c, peerN).toLocaleString('en-US')).join(' / ')} prices)`);
  const peerRun = interleave(tasks, peerRounds, { seed: 42 });
  const nsOf = (name: string) => peerRun.ns.get(name)!;
  const peer: PeerFigure[] = (['EMA(12)', 'RSI(14)', 'MACD(12,26,9)'] as const).map((indicator) => {
    const ours = nsOf(`ours ${indicator}`);
    const theirs = nsOf(`peer ${indicator}`);
    const [a, b] = finals[indicator];
    const perOutput = indicator === 'MACD(12,26,9)' ? { oursPerOutputNullNs: medianOf(nsOf(`ours ${indicator}, null check per output`)) } : {};
    return {
      indicator,
      oursNs: medianOf(ours),
      peerNs: medianOf(theirs),
      ratio: medianRatio(theirs, ours),
      ratioQuartiles: ratioQuartiles(theirs, ours),
      chunk: Math.min(PEER_CHUNK[indicator], peerN),
      finalAbsDiff: Math.abs(a - b),
      ...perOutput,
    };
  });
  const foldVsPeer = measureFoldVsPeer(whole, empty, events, prices, opts.foldRounds ?? 200, log);
  if (!Number.isFinite(peerChecksum())) log('(peer loops produced a non-finite checksum)');
  let kernels: FactorBenchResult['kernels'];
  if (opts.kernels !== false) {
    // in this process V8 compiled our loop or the peer's 2-4x slower in some runs (issue 20 #6);
    // the gate reads these children instead, whose flags make the compile the same every time
    log('kernels: the same loops in two fresh child processes (node --no-concurrent-recompilation --no-use-osr; node --jitless)');
    const k = { rounds: opts.kernelRounds };
    kernels = { jit: measureKernels('jit', k), interp: measureKernels('interp', k) };
  }

  const result: FactorBenchResult = {
    preset: opts.preset,
    events: n,
    dayEvents,
    eventsByKind,
    heartbeatVisits,
    symbols: symbols.size,
    runs,
    wholeSet,
    emptyFold,
    perFactor,
    byKind,
    sumNetNsPerEvent: perFactor.reduce((a, f) => a + f.netNsPerEvent, 0),
    sumNetMinNsPerEvent: perFactor.reduce((a, f) => a + f.netMinNsPerEvent, 0),
    peer,
    peerRounds,
    foldVsPeer,
    ...(kernels ? { kernels } : {}),
    peerPackage: {
      name: 'trading-signals',
      version: await peerVersion(),
      // v7+ dropped the big.js classes and with them the separate Faster* number classes
      fasterVariants: 'none exported (EMA/RSI/MACD are already number-based)',
    },
    peerPrices: peerN,
    goals: GOALS,
    node: process.version,
  };
  log(formatFactorBench(result));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  return result;
}
