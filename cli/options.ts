/**
 * Option groups and small parsers shared by the `lockstep` commands, so that a flag spelled in two
 * commands means the same thing in both. Only light modules load here: `lockstep --help` reads
 * every command's builder, and the builders read these definitions.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { UsageError } from '../core/errors.ts';
import { KINDS, type Kind } from '../core/events.ts';

/** The arguments a command's builder declares, as its handler receives them (before camel-casing). */
export type ArgsOf<B> = B extends (y: Argv) => Argv<infer U> ? U : never;

/** The arguments a command's builder declares, as its handler receives them (kebab and camel case). */
export type ParsedArgs<B> = ArgumentsCamelCase<ArgsOf<B>>;

/** A repeatable, comma-or-space separated list flag as a flat list; `undefined` when absent or empty. */
export function list(v: string | number | readonly (string | number)[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** A `--kinds` list, checked against the event kinds. */
export function kinds(v: readonly string[] | undefined): Kind[] | undefined {
  const l = list(v);
  if (!l) return undefined;
  const known = (k: string): k is Kind => KINDS.some((kind) => kind === k);
  const out: Kind[] = [];
  for (const k of l) {
    if (!known(k)) throw new UsageError(`unknown kind "${k}"; kinds are ${KINDS.join(', ')}`);
    out.push(k);
  }
  return out;
}

// --- the day selection (replay, feed; parity run and reference take its parts) ---

export const CATALOG = { type: 'string', demandOption: true, describe: 'catalog root directory' } as const;
export const DATE = { type: 'string', demandOption: true, describe: 'market date YYYY-MM-DD (UTC date of ts_recv)' } as const;
export const SYMBOLS = { type: 'string', array: true, describe: 'only these symbols (comma or space separated)' } as const;
export const KINDS_OPTION = { type: 'string', array: true, describe: `only these kinds: ${KINDS.join(', ')} (heartbeats always included)` } as const;
export const FROM = { type: 'string', describe: 'start time HH:MM UTC (inclusive, on ts_recv)' } as const;
export const TO = { type: 'string', describe: 'end time HH:MM UTC (exclusive)' } as const;
export const SPEED = { type: 'string', default: 'max', describe: '"max" or N for N x real time (paces output only)' } as const;

/** The day selection shared by replay and feed (the same files, in the same order). */
export function daySelectionOptions<T>(y: Argv<T>) {
  return y
    .option('catalog', CATALOG)
    .option('date', DATE)
    .option('symbols', SYMBOLS)
    .option('kinds', KINDS_OPTION)
    .option('from', FROM)
    .option('to', TO)
    .option('speed', SPEED);
}

/** What `daySelectionOptions` parses to. */
export interface DaySelectionArgs {
  catalog: string;
  date: string;
  symbols?: string[];
  kinds?: string[];
  from?: string;
  to?: string;
  speed: string;
}

/** The day selection as replay and feed take it (`--speed` checked). */
export async function daySelection(a: DaySelectionArgs) {
  const { parseSpeed } = await import('../replay/pacer.ts');
  return { catalog: a.catalog, date: a.date, symbols: list(a.symbols), kinds: kinds(a.kinds), from: a.from, to: a.to, speed: parseSpeed(a.speed) };
}

// --- the replay's selection: one date or several, and a warm-up before the window ---

export const DATES = { type: 'string', describe: 'instead of --date: several dates folded in order as one stream (state carries across days): A..B (the catalog dates within it) or a comma list' } as const;
export const WARMUP = {
  type: 'string',
  describe: 'fold this long before --from without writing it (e.g. 90m, 6h, 2d; may reach earlier catalog dates); default: from 00:00 of the first date; 0 = cold start',
} as const;
export const COLD = { type: 'boolean', describe: 'start the window cold, from empty state (same as --warmup 0)' } as const;

/** `daySelectionOptions` with `--date` or `--dates`, and `--warmup`/`--cold` (replay). */
export function rangeSelectionOptions<T>(y: Argv<T>) {
  return y
    .option('catalog', CATALOG)
    .option('date', { type: 'string', describe: 'market date YYYY-MM-DD (UTC date of ts_recv); or --dates' })
    .option('dates', DATES)
    .option('symbols', SYMBOLS)
    .option('kinds', KINDS_OPTION)
    .option('from', { ...FROM, describe: 'start time HH:MM UTC of the written window (inclusive, on ts_recv; on the first date)' })
    .option('to', { ...TO, describe: 'end time HH:MM UTC (exclusive; on the last date)' })
    .option('warmup', WARMUP)
    .option('cold', COLD)
    .option('speed', SPEED);
}

/** What `rangeSelectionOptions` parses to. */
export interface RangeSelectionArgs extends Omit<DaySelectionArgs, 'date'> {
  date?: string;
  dates?: string;
  warmup?: string;
  cold?: boolean;
}

/** The range selection as replay takes it: exactly one of `--date`/`--dates`, the warm-up checked. */
export async function rangeSelection(a: RangeSelectionArgs) {
  const { parseSpeed } = await import('../replay/pacer.ts');
  const { parseWarmup } = await import('../replay/date-range.ts');
  if (a.date !== undefined && a.dates !== undefined) throw new UsageError('give either --date or --dates, not both');
  if (a.date === undefined && a.dates === undefined) throw new UsageError('give the dates to replay: --date YYYY-MM-DD, or --dates A..B (or a comma list)');
  if (a.cold && a.warmup !== undefined && parseWarmup(a.warmup) !== 0n) throw new UsageError(`--cold and --warmup ${a.warmup} contradict each other: --cold is --warmup 0`);
  const warmup = a.cold ? 0n : a.warmup !== undefined ? parseWarmup(a.warmup) : undefined;
  return {
    catalog: a.catalog,
    ...(a.date !== undefined ? { date: a.date } : { dates: list(a.dates)! }),
    symbols: list(a.symbols),
    kinds: kinds(a.kinds),
    from: a.from,
    to: a.to,
    ...(warmup !== undefined ? { warmup } : {}),
    speed: parseSpeed(a.speed),
  };
}

// --- the Redis connection (feed, live, kill-switch, alerts, serve) ---

export const REDIS = { type: 'string', default: 'redis://127.0.0.1:6379', describe: 'redis://, rediss:// (TLS) or redis+sentinel://s1:port,s2:port/master; user:pass@ for an ACL user' } as const;
export const NS = { type: 'string', default: 'ls', describe: 'key namespace' } as const;
export const SHARDS = {
  type: 'number',
  demandOption: true,
  describe: 'number of input streams (symbols are hashed onto them)',
  coerce: (n: number) => {
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--shards must be a whole number >= 1${Number.isNaN(n) ? '' : `, got ${n}`}`);
    return n;
  },
} as const;

/** `--redis` and `--ns`; `redisDescribe` replaces the URL's description where a command has more to say. */
export function redisOptions<T>(y: Argv<T>, redisDescribe: string = REDIS.describe) {
  return y.option('redis', { ...REDIS, describe: redisDescribe }).option('ns', NS);
}

/** `--redis`, `--ns` and `--shards`: a deployment's input streams. */
export function deploymentOptions<T>(y: Argv<T>, redisDescribe: string = REDIS.describe) {
  return redisOptions(y, redisDescribe).option('shards', SHARDS);
}

// --- factors and output ---

export const FACTOR_PARAM = {
  type: 'string',
  array: true,
  describe: 'change a parameter: name.param=value (e.g. ma_5m.bars=6); the column is renamed after it (ma_6m) and it enters the feature-set version',
} as const;

export const FACTORS = {
  type: 'string',
  describe: 'your own factors: a module (.ts, .js, .mjs; its factors run after the default set) or a factor set file (.json; exactly the factors it lists)',
} as const;

export const ONLY = {
  type: 'string',
  array: true,
  describe: 'run only these factors of the set (names as `factors list` prints them; extra columns come with their factor)',
} as const;

/** `--factors`, `--only` and `--factor-param`: which factors a command runs, the same in every command. */
export function factorSetOptions<T>(y: Argv<T>) {
  return y.option('factors', FACTORS).option('only', ONLY).option('factor-param', FACTOR_PARAM);
}

/** What `factorSetOptions` parses to. */
export interface FactorSetArgs {
  factors?: string;
  only?: string[];
  'factor-param'?: string[];
}

/**
 * The factor set a command runs: the default set, or the one `--factors FILE` gives
 * (cli/factor-module.ts), cut to `--only` names, then with `--factor-param` settings applied
 * (both address factors by their names in the set).
 */
export async function factorSet(a: FactorSetArgs) {
  const { DEFAULT_FACTORS, withFactorParams } = await import('../core/registry.ts');
  let set = DEFAULT_FACTORS;
  if (a.factors !== undefined) set = (await (await import('./factor-module.ts')).loadFactorFile(a.factors)).factors;
  const only = list(a.only);
  if (only) set = (await import('./factor-module.ts')).selectOnly(set, only);
  return withFactorParams(set, list(a['factor-param']) ?? []);
}

/**
 * The arguments that give a child `lockstep live` the same set as this process (`--factors` as an
 * absolute path: the child may run elsewhere).
 */
export async function factorSetArgv(a: FactorSetArgs): Promise<string[]> {
  const { resolve } = await import('node:path');
  return [
    ...(a.factors !== undefined ? ['--factors', resolve(a.factors)] : []),
    ...(list(a.only)?.length ? ['--only', list(a.only)!.join(',')] : []),
    ...(list(a['factor-param']) ?? []).flatMap((p) => ['--factor-param', p]),
  ];
}

/** `--json`: print the result as one JSON document instead of text. */
export function jsonFlag(describe: string) {
  return { type: 'boolean', describe } as const;
}

/** `--registry DIR`: the registry's models as stages over a factor set's columns (models/stages-for.ts). */
export async function stagesFor(registry: string): Promise<(columns: readonly string[]) => ReturnType<typeof import('../models/stages-for.ts').modelStagesFor>> {
  const { modelStagesFor } = await import('../models/stages-for.ts');
  return (columns) => modelStagesFor(registry, columns);
}
