/**
 * The session table as text: which session (market-sessions.ts) each symbol trades in. A catalog
 * keeps it in `CATALOG/sessions.json`, written by the importers (TAQ, LOBSTER, SEC: `us-equity`;
 * Binance: `utc`, crypto's 24/7 UTC day; Dukascopy: `fx-ny17`); replay reads it from there, the
 * feed copies it into the deployment's `<ns>:meta` (field `sessions`) and the live workers read it
 * back, so both paths fold with the same table. The canonical text (`sessionTableJson`: keys
 * sorted, no spaces) is what the feature-set version hashes and what `<ns>:meta` compares.
 *
 * File format: `{"sessions": {"XXX": "us-equity", "BTCUSDT": "utc"}}`. Pure: parsing and printing
 * only; reading and writing the file is the catalog's (replay/catalog.ts).
 */
import { UsageError } from './errors.ts';
import type { SessionTable } from './fold.ts';
import { isSessionKind, SESSION_KINDS, type SessionKind } from './kernels/market-sessions.ts';

/** The canonical text of a table: `{"sessions":{...}}` with symbols sorted. */
export function sessionTableJson(table: SessionTable): string {
  const sorted = [...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const obj: Record<string, SessionKind> = Object.create(null);
  for (const [sym, kind] of sorted) obj[sym] = kind;
  return JSON.stringify({ sessions: obj });
}

/**
 * Parses a session table's text; `where` names its origin (a file, `<ns>:meta`) in the one-line
 * UsageError a malformed table gives, with the symbol and value at fault.
 */
export function parseSessionTable(text: string, where: string): Map<string, SessionKind> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not JSON (${(e as Error).message})`);
  }
  const sessions = (doc as { sessions?: unknown } | null)?.sessions;
  if (typeof doc !== 'object' || doc === null || typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) {
    throw new UsageError(`${where}: must be {"sessions": {"SYMBOL": "${SESSION_KINDS.join('" | "')}", ...}}`);
  }
  const out = new Map<string, SessionKind>();
  for (const [sym, kind] of Object.entries(sessions)) {
    if (!isSessionKind(kind)) throw new UsageError(`${where}: symbol ${JSON.stringify(sym)} has session ${JSON.stringify(kind)}; sessions are ${SESSION_KINDS.join(', ')}`);
    out.set(sym, kind);
  }
  return out;
}
