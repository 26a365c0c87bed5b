/**
 * The automatic kill switch's policy file: which anomaly of the factor fold, or which limit
 * breach, leads to which action. JSON, every section optional (at least one rule):
 *
 * ```json
 * {
 *   "flags": { "price_collar_flag": "kill-symbol", "return_zscore_flag": "alert",
 *              "volume_spike_flag": "alert", "quote_crossed_flag": "reduce-only-symbol" },
 *   "spread_blowout": { "k": 8, "window": 200, "action": "reduce-only-symbol" },
 *   "stale_feed": { "after": "60s", "action": "alert" },
 *   "limits": { "max_daily_loss": "kill-all", "max_position": "reduce-only-symbol", "*": "alert" }
 * }
 * ```
 * - `flags`: a 0/1 anomaly column of the factor fold (core/factors/anomaly.ts, quote-crossed.ts);
 *   it fires when the column turns 1 and is re-armed once it is 0 again (one trigger per episode).
 * - `spread_blowout`: a quote's `spread` above `k` × the median of the symbol's previous `window`
 *   positive spreads (kill-detector.ts keeps them as pure state).
 * - `stale_feed`: no market event of a symbol for `after` of event time (ms, s, m or h), seen as
 *   its stream's time (rows and heartbeats) passes the deadline.
 * - `limits`: a limit breach record (trading/limits.ts names the limits) by limit name; `*` is
 *   the action for any other limit.
 *
 * Actions: `alert` (an alert only), `reduce-only-symbol`, `kill-symbol` (halt the symbol),
 * `kill-all` (halt the deployment). Unknown keys and impossible values are refused, naming the
 * field and the value.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';

export const KILL_ACTIONS = ['alert', 'reduce-only-symbol', 'kill-symbol', 'kill-all'] as const;
export type KillAction = (typeof KILL_ACTIONS)[number];

/** The anomaly flag columns a policy may name. */
export const KILL_FLAGS = ['return_zscore_flag', 'volume_spike_flag', 'price_collar_flag', 'quote_crossed_flag'] as const;
export type KillFlag = (typeof KILL_FLAGS)[number];

export interface KillPolicy {
  flags: { column: KillFlag; action: KillAction }[];
  spreadBlowout: { k: number; window: number; action: KillAction } | null;
  staleFeed: { afterNs: bigint; action: KillAction } | null;
  /** Limit name (or `*`) → action. */
  limits: Map<string, KillAction>;
}

/** A policy file or value the detector cannot run with. */
export class KillPolicyError extends UserError {}

const LIMIT_RE = /^(\*|[a-z][a-z0-9_]{0,63})$/;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_NS: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Reads and checks a policy file. */
export function readKillPolicy(path: string): KillPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KillPolicyError(`policy ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (e as Error).message})`}`);
  }
  return parseKillPolicy(text, path);
}

/** Parses a policy's JSON text; `file` names it in errors. */
export function parseKillPolicy(text: string, file = 'policy'): KillPolicy {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new KillPolicyError(`policy ${file}: not JSON (${(e as Error).message})`);
  }
  const bad = (field: string, value: unknown, why: string): never => {
    throw new KillPolicyError(`policy ${file}: ${field} = ${JSON.stringify(value)}: ${why}`);
  };
  const obj = (field: string, v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(field, v, 'must be a JSON object'));
  const keysOnly = (field: string, o: Record<string, unknown>, allowed: readonly string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${field}${field ? '.' : ''}${k}`, o[k], `unknown key (known: ${allowed.join(', ')})`);
  };
  const action = (field: string, v: unknown): KillAction => ((KILL_ACTIONS as readonly unknown[]).includes(v) ? (v as KillAction) : bad(field, v, `not an action (${KILL_ACTIONS.join(', ')})`));
  const root = obj('(root)', j);
  keysOnly('', root, ['flags', 'spread_blowout', 'stale_feed', 'limits']);
  const policy: KillPolicy = { flags: [], spreadBlowout: null, staleFeed: null, limits: new Map() };
  if (root.flags !== undefined) {
    const f = obj('flags', root.flags);
    keysOnly('flags', f, KILL_FLAGS);
    for (const c of KILL_FLAGS) if (Object.hasOwn(f, c)) policy.flags.push({ column: c, action: action(`flags.${c}`, f[c]) });
  }
  if (root.spread_blowout !== undefined) {
    const s = obj('spread_blowout', root.spread_blowout);
    keysOnly('spread_blowout', s, ['k', 'window', 'action']);
    const k = s.k ?? 10;
    const window = s.window ?? 100;
    if (typeof k !== 'number' || !Number.isFinite(k) || k <= 1) bad('spread_blowout.k', k, 'must be a number > 1 (a multiple of the recent median spread)');
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 3 || window > 100_000) bad('spread_blowout.window', window, 'must be an integer from 3 to 100000 (previous quotes)');
    policy.spreadBlowout = { k: k as number, window: window as number, action: action('spread_blowout.action', s.action) };
  }
  if (root.stale_feed !== undefined) {
    const s = obj('stale_feed', root.stale_feed);
    keysOnly('stale_feed', s, ['after', 'action']);
    const m = typeof s.after === 'string' ? DURATION_RE.exec(s.after) : null;
    const ns = m ? Math.round(Number(m[1]) * UNIT_NS[m[2]]) : 0;
    if (!m || ns <= 0) bad('stale_feed.after', s.after, 'must be a duration > 0 like "500ms", "30s", "5m"');
    policy.staleFeed = { afterNs: BigInt(ns), action: action('stale_feed.action', s.action) };
  }
  if (root.limits !== undefined) {
    const l = obj('limits', root.limits);
    for (const [name, a] of Object.entries(l)) {
      if (!LIMIT_RE.test(name)) bad(`limits.${name}`, a, 'a limit name is lower_snake_case (or * for any other limit)');
      policy.limits.set(name, action(`limits.${name}`, a));
    }
  }
  if (policy.flags.length === 0 && !policy.spreadBlowout && !policy.staleFeed && policy.limits.size === 0) bad('(root)', j, 'no rule: give flags, spread_blowout, stale_feed or limits');
  return policy;
}
