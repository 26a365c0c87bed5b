/**
 * What a training set is asked to hold, parsed from the command line: sampling, labels, feature
 * columns, durations and date ranges. Pure: every bad value is a one-line UsageError naming the
 * flag and the value at fault.
 */
import { UsageError } from '../core/errors.ts';

const NS = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n } as const;

/** `5m`, `30s`, `1h`, `250ms`, `1d` as exact nanoseconds; a UsageError naming `flag` otherwise. */
export function parseDuration(text: string, flag: string, allowZero = false): bigint {
  if (allowZero && /^0+(ns|us|ms|s|m|h|d)?$/.test(text.trim())) return 0n;
  const m = /^(\d+)(ns|us|ms|s|m|h|d)$/.exec(text.trim());
  if (!m || BigInt(m[1]) === 0n) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a duration (a positive whole number with a unit: ns, us, ms, s, m, h, d; e.g. 5m)`);
  return BigInt(m[1]) * NS[m[2] as keyof typeof NS];
}

/** A duration as its shortest exact label: 300 s → `5m`, 90 s → `90s` (used in column names). */
export function durationName(ns: bigint): string {
  for (const u of ['d', 'h', 'm', 's', 'ms', 'us'] as const) if (ns % NS[u] === 0n) return `${ns / NS[u]}${u}`;
  return `${ns}ns`;
}

/** How sample instants are chosen (see sampler.ts for each one's exact rule). */
export type SampleSpec =
  | { kind: 'every'; stepNs: bigint }
  | { kind: 'bars'; stepNs: bigint }
  | { kind: 'trades' }
  | { kind: 'entities'; file: string };

/** `every:1s`, `bars:1m`, `trades`, `entities:FILE`. */
export function parseSample(text: string): SampleSpec {
  const [head, ...rest] = text.split(':');
  const arg = rest.join(':');
  if (head === 'every' && arg) return { kind: 'every', stepNs: parseDuration(arg, '--sample every') };
  if (head === 'bars' && arg) return { kind: 'bars', stepNs: parseDuration(arg, '--sample bars') };
  if (head === 'trades' && rest.length === 0) return { kind: 'trades' };
  if (head === 'entities' && arg) return { kind: 'entities', file: arg };
  throw new UsageError(`--sample ${JSON.stringify(text)}: use every:DURATION (e.g. every:1s), bars:DURATION (e.g. bars:1m), trades or entities:FILE`);
}

/** The label families `--labels` takes; each horizon of each family gives the columns below. */
export const LABEL_FAMILIES = ['fwd_return', 'fwd_vol', 'fwd_sign'] as const;
export type LabelFamily = (typeof LABEL_FAMILIES)[number];

/** One output label column: what it measures, over which horizon, of which price. */
export interface LabelColumn {
  name: string;
  family: LabelFamily;
  horizonNs: bigint;
  /** The price the label reads: the quote mid or the last trade price. */
  price: 'mid' | 'last';
}

/**
 * `fwd_return:5m,fwd_vol:30m,...` → label columns, in the order asked:
 * - `fwd_return:H` → `fwd_ret_mid_H`, `fwd_ret_last_H` (log return of mid / last trade price over (t, t+H]);
 * - `fwd_vol:H` → `fwd_vol_mid_H` (realized volatility of mid log-returns over (t, t+H]);
 * - `fwd_sign:H` → `fwd_sign_mid_H`, `fwd_sign_last_H` (sign of the forward return: -1, 0 or 1).
 * A horizon written two ways (`5m` and `300s`) is one column; asking twice is a usage error.
 */
export function parseLabels(text: string): LabelColumn[] {
  const out: LabelColumn[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z_]+):(.*)$/.exec(item);
    if (!m || !(LABEL_FAMILIES as readonly string[]).includes(m[1])) {
      throw new UsageError(`--labels: unknown label ${JSON.stringify(item)}; labels are ${LABEL_FAMILIES.map((f) => `${f}:HORIZON`).join(', ')} (e.g. fwd_return:5m)`);
    }
    const family = m[1] as LabelFamily;
    const horizonNs = parseDuration(m[2], `--labels ${family}`);
    const h = durationName(horizonNs);
    const cols: LabelColumn[] =
      family === 'fwd_vol'
        ? [{ name: `fwd_vol_mid_${h}`, family, horizonNs, price: 'mid' }]
        : (['mid', 'last'] as const).map((price) => ({ name: `${family === 'fwd_return' ? 'fwd_ret' : 'fwd_sign'}_${price}_${h}`, family, horizonNs, price }));
    for (const c of cols) {
      if (out.some((o) => o.name === c.name)) throw new UsageError(`--labels: ${item} is asked twice (column ${c.name})`);
      out.push(c);
    }
  }
  if (out.length === 0) throw new UsageError('--labels: give at least one label, e.g. fwd_return:5m');
  return out;
}

/** The feature columns to write: all of the set's (default) or the named subset, in the set's order. */
export function selectFeatures(all: readonly string[], asked: readonly string[] | undefined): string[] {
  if (!asked) return [...all];
  const unknown = asked.filter((a) => !all.includes(a));
  if (unknown.length > 0) throw new UsageError(`--features: unknown feature ${unknown.join(', ')}; features are ${all.join(', ')}`);
  return all.filter((c) => asked.includes(c));
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Every date from `a` to `b` inclusive (YYYY-MM-DD, UTC calendar). */
export function dateRange(a: string, b: string, flag: string): string[] {
  for (const d of [a, b]) if (!DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) !== d) throw new UsageError(`${flag}: invalid date ${JSON.stringify(d)}; use YYYY-MM-DD`);
  if (a > b) throw new UsageError(`${flag}: ${a}..${b} is empty (the first date is after the last)`);
  const out: string[] = [];
  for (let t = Date.parse(`${a}T00:00:00Z`); ; t += 86_400_000) {
    const d = new Date(t).toISOString().slice(0, 10);
    if (d > b) break;
    out.push(d);
  }
  return out;
}

/** `D` or `A..B` as its dates. */
export function parseDates(text: string, flag: string): string[] {
  const [a, b, ...more] = text.split('..');
  if (more.length > 0) throw new UsageError(`${flag}: ${JSON.stringify(text)} must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD`);
  return dateRange(a, b ?? a, flag);
}

/** One named split: the dates it holds. */
export interface SplitRange {
  name: string;
  dates: string[];
}

/** `train:2024-03-11..2024-03-13,valid:2024-03-14,test:2024-03-15` → ranges, in date order, disjoint. */
export function parseSplits(text: string): SplitRange[] {
  const out: SplitRange[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z][\w-]*):(.+)$/.exec(item);
    if (!m) throw new UsageError(`--split: ${JSON.stringify(item)} must be NAME:DATE or NAME:DATE..DATE`);
    if (['purged', 'embargoed'].includes(m[1])) throw new UsageError(`--split: ${m[1]} is reserved (it marks dropped rows)`);
    if (out.some((o) => o.name === m[1])) throw new UsageError(`--split: ${m[1]} is named twice`);
    out.push({ name: m[1], dates: parseDates(m[2], `--split ${m[1]}`) });
  }
  if (out.length === 0) throw new UsageError('--split: give at least one NAME:DATES range');
  out.sort((a, b) => (a.dates[0] < b.dates[0] ? -1 : 1));
  for (let i = 1; i < out.length; i++) {
    if (out[i].dates[0] <= out[i - 1].dates.at(-1)!) throw new UsageError(`--split: ${out[i - 1].name} and ${out[i].name} overlap`);
  }
  return out;
}

/** `i/N` (0 <= i < N) of `--partition`. */
export function parsePartition(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UsageError(`--partition ${JSON.stringify(text)}: use i/N with 0 <= i < N (e.g. 0/4; a Kubernetes Indexed Job passes $JOB_COMPLETION_INDEX as i)`);
  return { index, count };
}
