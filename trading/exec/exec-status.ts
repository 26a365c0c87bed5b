/**
 * What a live parent order (`lockstep execute --redis`, exec-live.ts) says of itself beside its
 * orders, for the dashboard's execution page (dashboard/exec-feed.ts), and how it is read back:
 * - its planned schedule, `<ns>:exec:<parent>:schedule` (JSON, `ScheduleRecord`), written once as
 *   the run starts: TWAP's and VWAP's steps from schedule.ts `plannedSchedule` (the function the
 *   algorithm decides with), or for POV no steps and why (its target follows the market's volume);
 * - its status, fields of its progress hash `<ns>:exec:<parent>` (beside `n` and `ckpt`): `state`
 *   (`running`; `done` once the window has ended and the TCA is written; `stopped` by a signal, an
 *   idle stop or an error, with `why`), `at` (wall ms of its last write, refreshed every `beat_ms`
 *   even when nothing arrives: a liveness signal), and where it is against its schedule: `ts` (the
 *   event time the fold has reached), `target` and `filled` (lots, the algorithm's own figures at
 *   `ts`: `target` is what `decide` compares `filled` with).
 * A run that is not `done` or `stopped` and has not written for `STALL_BEATS` heartbeats is
 * `stalled`: its process is gone (SIGKILL, a crash, a lost host) or cannot reach Redis.
 */
import { globalMark } from '../../core/watermark-merge.ts';
import type { ExecFoldState } from './exec-fold.ts';
import { plannedSchedule, scheduleTarget } from './schedule.ts';

/** The heartbeat's default period (ms), and how many beats missed make a run `stalled`. */
export const DEFAULT_BEAT_MS = 1000;
export const STALL_BEATS = 5;

export interface ScheduleRecord {
  parent: string;
  symbol: string;
  algo: 'twap' | 'vwap' | 'pov';
  /** Units per lot: the page draws units, as `<ns>:orders` and `<ns>:fills` carry them. */
  lot: number;
  qty: number;
  start: string;
  end: string;
  /** `[event time ns, lots]`, stepped (`plannedSchedule`); null for POV. */
  steps: [string, number][] | null;
  povRate: number | null;
  note: string | null;
}

/** The parent's planned schedule, from the state the algorithm starts with. */
export function scheduleRecord(st: ExecFoldState): ScheduleRecord {
  const s = st.algo;
  const steps = plannedSchedule(s);
  return {
    parent: s.parent.id,
    symbol: s.parent.symbol,
    algo: s.algo,
    lot: s.lot,
    qty: s.parent.qty,
    start: s.parent.start.toString(),
    end: s.parent.end.toString(),
    steps: steps === null ? null : steps.map(([t, l]) => [t.toString(), l]),
    povRate: s.algo === 'pov' ? s.povRate : null,
    note: steps === null ? `pov has no fixed schedule: its target is ${+(s.povRate * 100).toFixed(4)}% of the market volume as it trades` : null,
  };
}

/** The progress hash's schedule fields now (none before the fold has a clock). */
export function positionFields(st: ExecFoldState): string[] {
  const w = globalMark(st.merge);
  if (w === null) return [];
  const s = st.algo;
  return ['ts', w.toString(), 'target', String(Math.min(s.parent.qty, scheduleTarget(s, w))), 'filled', String(s.filled)];
}

export type RunState = 'running' | 'done' | 'stopped';

/** The status fields as read back (`hmget` of `STATUS_FIELDS`); null where absent or malformed. */
export interface ExecStatus {
  state: RunState | null;
  why: string | null;
  at: number | null;
  beatMs: number;
  ts: string | null;
  target: number | null;
  filled: number | null;
  n: number | null;
}

export const STATUS_FIELDS = ['state', 'why', 'at', 'beat_ms', 'ts', 'target', 'filled', 'n'] as const;

const numOr = (v: string | null | undefined): number | null => (v === null || v === undefined || v.trim() === '' || !Number.isFinite(Number(v)) ? null : Number(v));

export function decodeStatus(v: readonly (string | null)[]): ExecStatus {
  const [state, why, at, beat, ts, target, filled, n] = v;
  const beatMs = numOr(beat);
  return {
    state: state === 'running' || state === 'done' || state === 'stopped' ? state : null,
    why: why ?? null,
    at: numOr(at),
    beatMs: beatMs !== null && beatMs > 0 ? beatMs : DEFAULT_BEAT_MS,
    ts: ts !== null && ts !== undefined && /^\d{1,20}$/.test(ts) ? ts : null,
    target: numOr(target),
    filled: numOr(filled),
    n: numOr(n),
  };
}

export type ParentState = 'working' | 'done' | 'killed' | 'stalled' | 'stopped';

/**
 * A parent's state at wall time `nowMs`: `done` and `stopped` as its run wrote them; else
 * `stalled` when not heard from in `STALL_BEATS` of its heartbeats (or never: orders but no
 * status), with how long; else `killed` under a kill switch that is not `off`; else `working`.
 */
export function parentState(s: ExecStatus, killed: boolean, nowMs: number): { state: ParentState; silentMs: number | null } {
  if (s.state === 'done' || s.state === 'stopped') return { state: s.state, silentMs: null };
  const silentMs = s.at === null ? null : Math.max(0, nowMs - s.at);
  if (silentMs === null || silentMs > STALL_BEATS * s.beatMs) return { state: 'stalled', silentMs };
  return { state: killed ? 'killed' : 'working', silentMs };
}
