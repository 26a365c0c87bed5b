/**
 * The limits a desk runs with, as `lockstep desk` publishes them in `<ns>:limits` (one JSON string:
 * GET is all a reader needs) for the dashboard's limit usage bars, so the page sets against the
 * served books and positions the very thresholds the desk checks, not a copy of a file that may
 * differ. The record holds the thresholds (camelCase, as trading/limits.ts parses them), the actions
 * on breach, the limits file's absolute path and the SHA-256 of the bytes the desk parsed (both
 * null: the desk runs without a limits file, so no limit applies), and `at`, the wall-clock ms it
 * was written (metadata: the page says when the desk started with them).
 *
 * The desk reads its limits file once, when it starts: it writes the record then (and again after
 * a Redis error, in case Redis lost it), so a desk restarted with another file replaces it.
 */
import type { BookLimits, LimitAction, LimitKind, Limits, SymbolLimits } from './limits.ts';

/** The thresholds and where they come from, as the dashboard's page needs them (plain JSON). */
export interface LimitsView {
  file: string | null;
  sha256: string | null;
  symbols: Record<string, SymbolLimits>;
  defaultSymbol: SymbolLimits | null;
  total: BookLimits;
  books: Record<string, BookLimits>;
  actions: Record<LimitKind, LimitAction>;
}

/** A published record: the view and when the desk wrote it (wall-clock ms). */
export interface PublishedLimits extends LimitsView {
  at: number;
}

/** The view of parsed limits; `source` null: no limits file (the desk's `noLimits()`). */
export function limitsView(l: Limits, source: { file: string; sha256: string } | null): LimitsView {
  return { file: source?.file ?? null, sha256: source?.sha256 ?? null, symbols: Object.fromEntries(l.symbols), defaultSymbol: l.defaultSymbol, total: l.total, books: Object.fromEntries(l.books), actions: l.actions };
}

/** The `<ns>:limits` value. */
export function encodeLimits(v: LimitsView, atMs: number): string {
  return JSON.stringify({ ...v, at: atMs });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const numbers = (x: unknown): boolean => isObj(x) && Object.values(x).every((v) => typeof v === 'number' && Number.isFinite(v));
const objectsOfNumbers = (x: unknown): boolean => isObj(x) && Object.values(x).every(numbers);

/**
 * A `<ns>:limits` value read back: the record, or why it is not one (naming the field), so the
 * page says what is wrong instead of drawing bars from a half-read record.
 */
export function decodeLimits(text: string): PublishedLimits | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isObj(v)) return { error: 'not a JSON object' };
  const bad = (field: string) => ({ error: `field ${field}: ${JSON.stringify(v[field]) ?? 'missing'}` });
  if (!(v.file === null || typeof v.file === 'string')) return bad('file');
  if (!(v.sha256 === null || (typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256)))) return bad('sha256');
  if (!objectsOfNumbers(v.symbols)) return bad('symbols');
  if (!(v.defaultSymbol === null || numbers(v.defaultSymbol))) return bad('defaultSymbol');
  if (!numbers(v.total)) return bad('total');
  if (!objectsOfNumbers(v.books)) return bad('books');
  if (!isObj(v.actions) || !Object.values(v.actions).every((a) => typeof a === 'string')) return bad('actions');
  if (typeof v.at !== 'number' || !Number.isFinite(v.at)) return bad('at');
  return v as unknown as PublishedLimits;
}
