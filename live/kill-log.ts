/**
 * A kill-switch change as a fold reads it: the mode in force for `symbol` (null: the whole
 * deployment) from event time `ts` on. The switch itself (`<ns>:kill`, kill-switch.ts) is operator
 * state with no event time, so each adapter reads it, logs every change with the place in event
 * time it read it at, and its fold reads only the log: the execution algorithm's
 * `<ns>:exec:<parent>:kills` (trading/exec/exec-wire.ts) and the weights driver's
 * `<ns>:weights:inputs` (portfolio/control.ts, with `kind kill` in front). One format for both:
 *   mode (off|reduce-only|halt) symbol ('' = everything) reason ts (epoch ns)
 * Pure: no I/O.
 */
import type { KillEntryMode } from './kill-switch.ts';

export type KillLogMode = 'off' | KillEntryMode;

export interface KillLogChange {
  mode: KillLogMode;
  /** null: the whole deployment. */
  symbol: string | null;
  reason: string;
  /** Its place in event time (epoch ns). */
  ts: bigint;
}

const MODES: readonly KillLogMode[] = ['off', 'reduce-only', 'halt'];
const NS_RE = /^\d{1,20}$/;

/** A change as stream fields. */
export const encodeKillLogFields = (k: KillLogChange): string[] => ['mode', k.mode, 'symbol', k.symbol ?? '', 'reason', k.reason, 'ts', String(k.ts)];

/** A change back from its fields (by name), or why they are not one. */
export function decodeKillLogFields(f: Readonly<Record<string, string>>): KillLogChange | { bad: string } {
  if (!MODES.includes(f.mode as KillLogMode)) return { bad: `mode ${JSON.stringify(f.mode ?? null)}: must be off, reduce-only or halt` };
  if (f.ts === undefined || !NS_RE.test(f.ts)) return { bad: `ts ${JSON.stringify(f.ts ?? null)}: must be epoch nanoseconds` };
  return { mode: f.mode as KillLogMode, symbol: f.symbol ? f.symbol : null, reason: f.reason ?? '', ts: BigInt(f.ts) };
}
