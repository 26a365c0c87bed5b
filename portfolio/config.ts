/**
 * The target-weights configuration: a JSON file, validated field by field. Every refusal is one
 * InputError naming the file, the field and the value at fault (the CLI prints it as one line and
 * exits 2). Parsing is pure (text in, config out); only `readWeightsConfig` touches the disk.
 *
 * ```json
 * {
 *   "signal": "return_1m",            // any output column: a factor today, a model's signal later
 *   "method": "zscore",               // rank | zscore
 *   "z_clip": 3,                      // |z| clip (zscore only; default 3)
 *   "construction": "dollar-neutral", // long-only | dollar-neutral
 *   "max_weight": 0.1,                // per-name cap on |w|
 *   "gross_leverage": 1,              // cap on sum |w|
 *   "vol": { "column": "rv_5m", "inverse": true, "target": 0.002 },
 *   "turnover_limit": 0.5,            // cap on sum |w - w_prev| per rebalance (omit: none)
 *   "rebalance": "every:5m",          // or "on-demand"
 *   "session": "us-equity",           // utc | us-equity | fx-ny17: where "every" counts from
 *   "stale_after": "120s",            // a symbol without a row for this long is excluded (omit: never)
 *   "killed_column": "killed_flag",   // optional status columns: non-zero excludes the symbol
 *   "halted_column": "halted_flag",
 *   "universe": "all",                // or ["AAPL", "MSFT", ...]
 *   "time": "ts_recv"                 // ts_recv (default) | ts_event
 * }
 * ```
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { isSessionKind, type SessionKind } from '../core/kernels/market-sessions.ts';
import { compareText } from './weights-math.ts';

/** A validated target-weights configuration (see the file's TSDoc for the JSON form). */
export interface WeightsConfig {
  /** The output column ranked or z-scored across symbols. */
  signal: string;
  method: 'rank' | 'zscore';
  /** z-scores are clipped to [-zClip, zClip] (winsorised) before weighting. */
  zClip: number;
  construction: 'long-only' | 'dollar-neutral';
  /** Per-name cap on |w|. */
  maxWeight: number;
  /** Cap on the book's gross leverage, sum |w|. */
  grossLeverage: number;
  /** Volatility scaling from a realized-volatility column; null: none. */
  vol: { column: string; inverse: boolean; target: number | null } | null;
  /** Cap on sum |w - w_prev| per rebalance; null: none. */
  turnoverLimit: number | null;
  /** Rebalance every `everyNs` of event time from the session open; null: only on request. */
  everyNs: bigint | null;
  session: SessionKind;
  /** A symbol whose latest row is older than this at T is excluded as stale; null: never. */
  staleNs: bigint | null;
  killedColumn: string | null;
  haltedColumn: string | null;
  /** Sorted symbol list, or every symbol seen. */
  universe: readonly string[] | 'all';
  /** Which timestamp of a row is the fold's clock. */
  time: 'ts_recv' | 'ts_event';
}

const KEYS = ['signal', 'method', 'z_clip', 'construction', 'max_weight', 'gross_leverage', 'vol', 'turnover_limit', 'rebalance', 'session', 'stale_after', 'killed_column', 'halted_column', 'universe', 'time'];
const NS = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n } as const;

/** The columns of an output row the fold reads, in the order `WeightsRow.values` holds them. */
export function inputColumns(cfg: WeightsConfig): string[] {
  return [cfg.signal, cfg.vol?.column ?? null, cfg.killedColumn, cfg.haltedColumn].filter((c): c is string => c !== null);
}

/** Reads and validates a config file; errors name `path`. */
export function readWeightsConfig(path: string): WeightsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError({ file: path, reason: `cannot read the weights config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  return parseWeightsConfig(text, path);
}

/** Validates a config's JSON text; `file` names it in errors. */
export function parseWeightsConfig(text: string, file: string): WeightsConfig {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new InputError({ file, reason: `not valid JSON (${(e as Error).message})` });
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new InputError({ file, reason: 'the weights config must be a JSON object' });
  const o = j as Record<string, unknown>;
  const bad = (field: string, reason: string): never => {
    throw new InputError(o[field] === undefined ? { file, field, reason } : { file, field, value: shown(o[field]), reason });
  };
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new InputError({ file, field: k, reason: `unknown field (known: ${KEYS.join(', ')})` });

  const column = (field: string, v: unknown): string => {
    if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/.test(v)) bad(field, 'must be a column name (letters, digits, _ and .)');
    return v as string;
  };
  const choice = <T extends string>(field: string, options: readonly T[], dflt?: T): T => {
    const v = o[field] ?? dflt;
    if (v === undefined) bad(field, `is required (one of ${options.join(', ')})`);
    if (!options.includes(v as T)) bad(field, `must be one of ${options.join(', ')}`);
    return v as T;
  };
  const positive = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(field, 'must be a positive finite number');
    return v as number;
  };
  const duration = (field: string, v: unknown): bigint => {
    const m = typeof v === 'string' ? /^(\d+)(ns|us|ms|s|m|h|d)$/.exec(v) : null;
    if (!m || BigInt(m[1]) === 0n) bad(field, 'must be a positive duration with a unit: ns, us, ms, s, m, h, d (e.g. "5m")');
    return BigInt(m![1]) * NS[m![2] as keyof typeof NS];
  };

  if (o.signal === undefined) bad('signal', 'is required: the output column to weight on (e.g. "return_1m")');
  const signal = column('signal', o.signal);
  const method = choice('method', ['rank', 'zscore'] as const);
  const construction = choice('construction', ['long-only', 'dollar-neutral'] as const);
  const zClip = o.z_clip === undefined ? 3 : positive('z_clip', o.z_clip);
  const maxWeight = positive('max_weight', o.max_weight ?? bad('max_weight', 'is required: the per-name cap on |w| (e.g. 0.1)'));
  const grossLeverage = positive('gross_leverage', o.gross_leverage ?? 1);

  let vol: WeightsConfig['vol'] = null;
  if (o.vol !== undefined) {
    const v = o.vol as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('vol', 'must be an object {"column": ..., "inverse": true|false, "target": number}');
    for (const k of Object.keys(v)) if (!['column', 'inverse', 'target'].includes(k)) throw new InputError({ file, field: `vol.${k}`, reason: 'unknown field (known: column, inverse, target)' });
    const col = column('vol.column', v.column);
    if (v.inverse !== undefined && typeof v.inverse !== 'boolean') throw new InputError({ file, field: 'vol.inverse', value: shown(v.inverse), reason: 'must be true or false' });
    const target = v.target === undefined ? null : positiveAt(file, 'vol.target', v.target);
    const inverse = (v.inverse as boolean | undefined) ?? true;
    if (!inverse && target === null) throw new InputError({ file, field: 'vol', reason: 'does nothing: set "inverse": true and/or a "target"' });
    vol = { column: col, inverse, target };
  }

  const turnoverLimit = o.turnover_limit === undefined ? null : positive('turnover_limit', o.turnover_limit);
  let everyNs: bigint | null = null;
  const reb = o.rebalance ?? bad('rebalance', 'is required: "every:DURATION" (e.g. "every:5m") or "on-demand"');
  if (reb === 'on-demand') everyNs = null;
  else if (typeof reb === 'string' && reb.startsWith('every:')) everyNs = duration('rebalance', reb.slice('every:'.length));
  else bad('rebalance', 'must be "every:DURATION" (e.g. "every:5m") or "on-demand"');
  const session = o.session ?? 'utc';
  if (!isSessionKind(session)) bad('session', 'must be one of utc, us-equity, fx-ny17');
  const staleNs = o.stale_after === undefined ? null : duration('stale_after', o.stale_after);
  const killedColumn = o.killed_column === undefined ? null : column('killed_column', o.killed_column);
  const haltedColumn = o.halted_column === undefined ? null : column('halted_column', o.halted_column);

  let universe: WeightsConfig['universe'] = 'all';
  if (o.universe !== undefined && o.universe !== 'all') {
    if (!Array.isArray(o.universe) || o.universe.length === 0 || !o.universe.every((s) => typeof s === 'string' && /^[A-Za-z0-9._\-/:]{1,64}$/.test(s)))
      bad('universe', 'must be "all" or a non-empty list of symbols');
    universe = [...new Set(o.universe as string[])].sort(compareText);
  }
  const time = choice('time', ['ts_recv', 'ts_event'] as const, 'ts_recv');
  const cfg: WeightsConfig = { signal, method, zClip, construction, maxWeight, grossLeverage, vol, turnoverLimit, everyNs, session: session as SessionKind, staleNs, killedColumn, haltedColumn, universe, time };
  const cols = inputColumns(cfg);
  const dup = cols.find((c, i) => cols.indexOf(c) !== i);
  if (dup) throw new InputError({ file, field: 'signal', value: dup, reason: 'the signal, vol, killed and halted columns must differ' });
  return cfg;
}

function positiveAt(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InputError({ file, field, value: shown(v), reason: 'must be a positive finite number' });
  return v;
}

/** A value as InputError shows it: primitives as they are (strings quoted there), objects as JSON. */
const shown = (v: unknown): unknown => (typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
