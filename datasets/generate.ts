/**
 * The deterministic synthetic market day: `lockstep datasets generate`.
 *
 * Same arguments → byte-identical files. Every symbol draws from its own PRNG streams derived from
 * (seed, date, symbol index), so symbols are independent and are generated and written one at a
 * time (one part at a time when partBy groups several symbols): memory is bounded by one part,
 * not the day. The day's script (halt, burst, gap, announcers) comes from its own (seed, date)
 * stream. See synthetic-symbol.ts for the microstructure and delivery model.
 */
import type { Kind } from '../core/events.ts';
import { KINDS } from '../core/events.ts';
import { dateStartNs, partOf, utcDate, writeCatalogFile, type CatalogRow, type PartBy } from '../replay/catalog.ts';
import { UsageError } from '../core/errors.ts';
import { heartbeats } from './heartbeats.ts';
import { isPresetName, PRESETS, syntheticSymbol, type PresetName } from './presets.ts';
import { rngFor, uniform } from './prng.ts';
import { messageOffsets } from './synthetic-activity.ts';
import { fundamentalsFor, type FundamentalRow } from './synthetic-fundamentals.ts';
import { newsFor, type NewsCluster } from './synthetic-news.ts';
import { BUCKET_NS, OPEN_OFFSET_NS, planDay, SESSION_NS, STREAM_DELIVERY, STREAM_NEWS, STREAM_SYMBOL, type DayPlan } from './synthetic-plan.ts';
import { expectedEventsPerMessage, MAX_MID_STEP_TICKS, MID_MOVE_SHARE, simulateSymbol } from './synthetic-symbol.ts';
import { symbolTraits } from './synthetic-traits.ts';

export interface GenerateOptions {
  /** YYYY-MM-DD; the session is 13:30–20:00 UTC on it. */
  date: string;
  /** Number of symbols (SYM000, SYM001, ...); overrides the preset's count. */
  symbols: number;
  seed: number;
  preset: PresetName;
  /** Catalog root to write into. */
  out: string;
  rowGroupSize?: number;
  /** How files are split (default one per symbol). */
  partBy?: PartBy;
  /** Fraction of trade/quote/book event groups delivered twice (default 0.001). */
  duplicateFraction?: number;
  /** Fraction of messages delivered after later messages of their symbol (default 0.001). */
  lateFraction?: number;
  /** Overrides the preset's market events per symbol. */
  eventsPerSymbol?: number;
}

export interface GeneratedPlan {
  halt: { symbol: string; startNs: bigint; endNs: bigint };
  burst: { startNs: bigint; endNs: bigint; factor: number };
  /** The gap as it happened (atNs is when the first message after the planned time hit). */
  jump: { symbol: string; atNs: bigint; fraction: number };
  announcements: { symbol: string; tsEvent: bigint }[];
}

export interface GenerateResult {
  files: string[];
  /** Rows written per kind (duplicates and past-date fundamentals included). */
  events: Record<Kind, number>;
  total: number;
  /** Rows delivered late and rows delivered twice (trade, quote and book). */
  lateMessages: number;
  duplicates: number;
  plan: GeneratedPlan;
}

export const DEFAULT_DUPLICATE_FRACTION = 0.001;
export const DEFAULT_LATE_FRACTION = 0.001;
const DAILY_VOL = 0.015;

/** Generates one synthetic market day into the catalog at `opts.out`. */
export async function generateDay(opts: GenerateOptions): Promise<GenerateResult> {
  const o = checkOptions(opts);
  const dayStart = dateStartNs(o.date);
  const day = Number(dayStart / 86_400_000_000_000n);
  const openNs = dayStart + BigInt(OPEN_OFFSET_NS);
  const closeNs = openNs + BigInt(SESSION_NS);
  const plan = planDay(o.seed, day, o.symbols);
  const events = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  const files: string[] = [];
  const write = (kind: Kind, date: string, part: string, rows: readonly CatalogRow[]) => {
    if (rows.length === 0) return;
    files.push(writeCatalogFile(o.out, kind, date, part, rows, o.rowGroupSize));
    events[kind] += rows.length;
  };

  const fundamentals: { part: string; rows: FundamentalRow[] }[] = [];
  const announcements: { symbol: string; tsEvent: bigint }[] = [];
  let jumpAt = -1n;
  let lateMessages = 0;
  let duplicates = 0;
  for (const [part, indices] of partGroups(o.partBy, o.symbols)) {
    const acc: Record<'trade' | 'quote' | 'book' | 'news', CatalogRow[][]> = { trade: [], quote: [], book: [], news: [] };
    for (const i of indices) {
      const g = generateSymbol(o, plan, day, openNs, i);
      acc.trade.push(g.trades);
      acc.quote.push(g.quotes);
      acc.book.push(g.books);
      acc.news.push(g.news);
      fundamentals.push({ part, rows: g.fundamentals });
      if (g.announcement) announcements.push({ symbol: syntheticSymbol(i), tsEvent: g.announcement });
      if (g.jumpAtNs >= 0n) jumpAt = g.jumpAtNs;
      lateMessages += g.lateMessages;
      duplicates += g.duplicates;
    }
    for (const kind of ['trade', 'quote', 'book', 'news'] as const) {
      const rows = acc[kind].length === 1 ? acc[kind][0] : acc[kind].flat();
      acc[kind].length = 0;
      write(kind, o.date, part, rows);
    }
  }

  // fundamentals span dates (past quarters land in their own date partitions)
  const byFile = new Map<string, { date: string; part: string; rows: FundamentalRow[] }>();
  for (const { part, rows } of fundamentals) {
    for (const r of rows) {
      const date = utcDate(r.tsRecv);
      const key = `${date}\u0000${part}`;
      let f = byFile.get(key);
      if (!f) byFile.set(key, (f = { date, part, rows: [] }));
      f.rows.push(r);
    }
  }
  for (const key of [...byFile.keys()].sort()) {
    const f = byFile.get(key)!;
    write('fundamental', f.date, f.part, f.rows);
  }

  write('heartbeat', o.date, partOf(o.partBy, '', 0), heartbeats(openNs, closeNs));

  announcements.sort((a, b) => (a.tsEvent < b.tsEvent ? -1 : a.tsEvent > b.tsEvent ? 1 : a.symbol < b.symbol ? -1 : 1));
  return {
    files: files.sort(),
    events,
    total: KINDS.reduce((s, k) => s + events[k], 0),
    lateMessages,
    duplicates,
    plan: {
      halt: {
        symbol: syntheticSymbol(plan.halt.symbolIndex),
        startNs: openNs + BigInt(plan.halt.startBucket * BUCKET_NS),
        endNs: openNs + BigInt(plan.halt.endBucket * BUCKET_NS),
      },
      burst: {
        startNs: openNs + BigInt(plan.burst.startBucket * BUCKET_NS),
        endNs: openNs + BigInt(plan.burst.endBucket * BUCKET_NS),
        factor: plan.burst.factor,
      },
      jump: { symbol: syntheticSymbol(plan.jump.symbolIndex), atNs: jumpAt, fraction: plan.jump.fraction },
      announcements,
    },
  };
}

interface SymbolOutput {
  trades: CatalogRow[];
  quotes: CatalogRow[];
  books: CatalogRow[];
  news: CatalogRow[];
  fundamentals: FundamentalRow[];
  announcement: bigint | null;
  jumpAtNs: bigint;
  lateMessages: number;
  duplicates: number;
}

function generateSymbol(o: Required<Omit<GenerateOptions, 'rowGroupSize'>> & { rowGroupSize?: number }, plan: DayPlan, day: number, openNs: bigint, i: number): SymbolOutput {
  const symbol = syntheticSymbol(i);
  const traits = symbolTraits(o.seed, i);
  const rng = rngFor(o.seed, STREAM_SYMBOL, day, i);
  // the day's opening level wanders ±10% around the symbol's reference price
  const startBidTicks = Math.round(traits.basePriceTicks * (0.9 + 0.2 * uniform(rng)));
  const halted = plan.halt.symbolIndex === i;
  // ~1.5% daily volatility from the mid's random walk (less for high-priced symbols in small presets,
  // where the step is capped); the message count follows from the step and the event budget
  let messages = Math.round(o.eventsPerSymbol / 2.6);
  let midStepTicks = 1;
  for (let k = 0; k < 4; k++) {
    midStepTicks = Math.min(MAX_MID_STEP_TICKS, (DAILY_VOL * startBidTicks) / Math.sqrt(MID_MOVE_SHARE * messages));
    messages = Math.max(1, Math.round(o.eventsPerSymbol / expectedEventsPerMessage(midStepTicks)));
  }
  const offsets = messageOffsets(rng, messages, {
    haltStartBucket: halted ? plan.halt.startBucket : 0,
    haltEndBucket: halted ? plan.halt.endBucket : 0,
    burstStartBucket: plan.burst.startBucket,
    burstEndBucket: plan.burst.endBucket,
    burstFactor: plan.burst.factor,
  });
  const jumps = plan.jump.symbolIndex === i;
  const session = simulateSymbol({
    symbol,
    openNs,
    rng,
    deliveryRng: rngFor(o.seed, STREAM_DELIVERY, day, i),
    offsets,
    startBidTicks,
    typicalSpread: traits.typicalSpread,
    midStepTicks,
    jumpOffsetNs: jumps ? plan.jump.offsetNs : -1,
    jumpFraction: jumps ? plan.jump.fraction : 0,
    duplicateFraction: o.duplicateFraction,
    lateFraction: o.lateFraction,
  });
  const { rows: fundamentals, announcement } = fundamentalsFor(o.seed, i, symbol, traits, day, plan.announcers.get(i));
  const clusters: NewsCluster[] = [];
  if (announcement) {
    const beat = announcement.surprise >= 0;
    clusters.push({ atNs: announcement.tsEvent, bias: beat ? 0.5 : -0.5, count: 3, topic: beat ? 'results beat last year' : 'results miss last year' });
  }
  const jumpAtNs = session.jumpAtNs >= 0 ? openNs + BigInt(session.jumpAtNs) : -1n;
  if (jumpAtNs >= 0n) {
    const up = plan.jump.fraction > 0;
    clusters.push({ atNs: jumpAtNs, bias: up ? 0.6 : -0.6, count: 3, topic: up ? 'shares jump' : 'shares slide' });
  }
  const news = newsFor(rngFor(o.seed, STREAM_NEWS, day, i), symbol, openNs, clusters);
  return {
    trades: session.trades,
    quotes: session.quotes,
    books: session.books,
    news,
    fundamentals,
    announcement: announcement && utcDate(announcement.tsEvent) === utcDate(openNs) ? announcement.tsEvent : null,
    jumpAtNs,
    lateMessages: session.lateMessages,
    duplicates: session.duplicates,
  };
}

/** Symbol indices per part, parts in name order (one symbol per part by default). */
function partGroups(partBy: PartBy, symbols: number): [string, number[]][] {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < symbols; i++) {
    const p = partOf(partBy, syntheticSymbol(i), i);
    let g = groups.get(p);
    if (!g) groups.set(p, (g = []));
    g.push(i);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkOptions(opts: GenerateOptions): Required<Omit<GenerateOptions, 'rowGroupSize'>> & { rowGroupSize?: number } {
  if (!isPresetName(opts.preset)) throw new UsageError(`unknown preset "${opts.preset}"; presets are ${Object.keys(PRESETS).join(', ')}`);
  // throws a UsageError naming a malformed date; past quarters must still fall after 1970
  if (dateStartNs(opts.date) < 400n * 86_400_000_000_000n) throw new UsageError(`--date must be 1971-02-05 or later, got ${opts.date}`);
  if (!Number.isInteger(opts.symbols) || opts.symbols < 1 || opts.symbols > 100_000) throw new UsageError(`--symbols must be an integer in [1, 100000], got ${opts.symbols}`);
  if (!Number.isSafeInteger(opts.seed)) throw new UsageError(`--seed must be an integer, got ${opts.seed}`);
  if (!opts.out) throw new UsageError('--out is required');
  const eventsPerSymbol = opts.eventsPerSymbol ?? PRESETS[opts.preset].eventsPerSymbol;
  if (!Number.isInteger(eventsPerSymbol) || eventsPerSymbol < 10) throw new UsageError(`events per symbol must be an integer >= 10, got ${eventsPerSymbol}`);
  const fraction = (name: string, v: number | undefined, dflt: number) => {
    const f = v ?? dflt;
    if (!(f >= 0 && f <= 0.5)) throw new UsageError(`${name} must be in [0, 0.5], got ${v}`);
    return f;
  };
  const partBy = opts.partBy ?? 'symbol';
  if (typeof partBy === 'object' && !(Number.isInteger(partBy.buckets) && partBy.buckets >= 1)) throw new UsageError(`partBy buckets must be an integer >= 1, got ${partBy.buckets}`);
  if (opts.rowGroupSize !== undefined && !(Number.isInteger(opts.rowGroupSize) && opts.rowGroupSize >= 1)) throw new UsageError(`rowGroupSize must be an integer >= 1, got ${opts.rowGroupSize}`);
  return {
    date: opts.date,
    symbols: opts.symbols,
    seed: opts.seed,
    preset: opts.preset,
    out: opts.out,
    rowGroupSize: opts.rowGroupSize,
    partBy,
    duplicateFraction: fraction('duplicateFraction', opts.duplicateFraction, DEFAULT_DUPLICATE_FRACTION),
    lateFraction: fraction('lateFraction', opts.lateFraction, DEFAULT_LATE_FRACTION),
    eventsPerSymbol,
  };
}
