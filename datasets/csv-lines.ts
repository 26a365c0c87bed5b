/**
 * The small CSV layer shared by the TAQ, Dukascopy and SEC importers: read a plain or gzipped
 * file, map header names to column indexes, walk data rows with their 1-based line numbers, and
 * apply the importers' malformed-row policy (fail on the first one, or count and sample them).
 *
 * The formats we read never quote or escape fields, so a row is split on commas; a quoted field
 * would change the column count and be rejected as malformed rather than silently misread.
 * The files are small (a few MB unpacked), so a whole file is read at once.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CatalogRow } from '../replay/catalog.ts';
import { InputError, UsageError } from '../core/errors.ts';
import type { ImportReport, OnError, RejectedRow } from './import-report.ts';
import { LockstepError } from '../core/errors.ts';
import { magnitudeProblem } from '../core/plausibility.ts';

export interface CsvTable {
  file: string;
  header: string[];
  /** Data lines (header excluded, blank lines dropped); `line` is the 1-based line in the file. */
  rows: { line: number; text: string }[];
}

/** Reads a CSV file (gunzipped when its name ends in `.gz`) into its header and raw data lines. */
export function readCsv(file: string): CsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
    if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  } catch (e) {
    throw new InputError({ file, reason: `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  const lines = bytes.toString('utf8').split('\n');
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  const rows: CsvTable['rows'] = [];
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (text.length > 0) rows.push({ line: i + 1, text });
  }
  return { file, header, rows };
}

/** Column indexes of the named header fields; a missing one fails the whole file (no skipping). */
export function columnIndex<N extends string>(t: CsvTable, names: readonly N[]): Record<N, number> {
  const out = {} as Record<N, number>;
  for (const n of names) {
    const i = t.header.indexOf(n);
    if (i < 0) throw new InputError({ file: t.file, row: 1, rowLabel: 'line', field: n, reason: `missing column "${n}" (header has: ${t.header.join(', ')})` });
    out[n] = i;
  }
  return out;
}

/**
 * Input files: the file itself, or the files of a directory whose names match `pattern`, sorted by
 * name (so multi-day inputs keep day order).
 */
export function listInputs(inPath: string, pattern: RegExp, what: string): string[] {
  let st;
  try {
    st = statSync(inPath);
  } catch {
    throw new UsageError(`input ${inPath} does not exist`);
  }
  if (!st.isDirectory()) return [inPath];
  const files = readdirSync(inPath).filter((f) => pattern.test(f)).sort().map((f) => join(inPath, f));
  if (files.length === 0) throw new UsageError(`no ${what} files in ${inPath} (expected names matching ${pattern})`);
  return files;
}

/** The name of a file without directories, for matching and for symbols taken from file names. */
export const fileName = (p: string): string => basename(p);

/** What is wrong with one field of one row; caught per row and turned into a rejection. */
export class RowProblem extends LockstepError {
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Malformed-row bookkeeping for one import run. */
export interface Rejects {
  onError: OnError;
  count: number;
  sample: RejectedRow[];
}

export const REJECTED_SAMPLE_MAX = 100;

export function newRejects(onError: OnError = 'fail'): Rejects {
  return { onError, count: 0, sample: [] };
}

/** Fails the import (InputError naming file, line, field, value) or counts the row, by policy. */
export function rejectRow(r: Rejects, row: RejectedRow): void {
  if (r.onError === 'fail') {
    throw new InputError({ file: row.file, row: row.line, rowLabel: 'line', field: row.field, value: row.value, reason: row.reason });
  }
  r.count++;
  if (r.sample.length < REJECTED_SAMPLE_MAX) r.sample.push(row);
}

/**
 * Calls `fn` with the split fields of each data row that has exactly the header's column count.
 * Rows with another count, or for which `fn` throws a RowProblem, are rejected by policy.
 */
export function forEachRow(t: CsvTable, rejects: Rejects, fn: (fields: string[], line: number) => void): void {
  const width = t.header.length;
  for (const { line, text } of t.rows) {
    const fields = text.split(',');
    if (fields.length !== width) {
      rejectRow(rejects, { file: t.file, line, field: '(row)', value: text, reason: `has ${fields.length} columns; the header has ${width}` });
      continue;
    }
    try {
      fn(fields, line);
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      rejectRow(rejects, { file: t.file, line, field: e.field, value: e.value, reason: e.reason });
    }
  }
}

const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A decimal number; `min` 'zero' forbids negatives, 'positive' also forbids zero. Blank is a
 * problem, and so is a magnitude of 1e15 or more (core/plausibility.ts).
 */
export function decimalField(field: string, s: string, min?: 'zero' | 'positive'): number {
  if (!DECIMAL_RE.test(s)) throw new RowProblem(field, s, 'is not a number');
  const v = Number(s);
  if (!Number.isFinite(v)) throw new RowProblem(field, s, 'is not a finite number');
  // the plausibility rule (core/plausibility.ts): the same bound replay and live apply
  const absurd = magnitudeProblem(field, v);
  if (absurd) throw new RowProblem(field, s, absurd.reason);
  if (min === 'zero' && v < 0) throw new RowProblem(field, s, 'must be >= 0');
  if (min === 'positive' && !(v > 0)) throw new RowProblem(field, s, 'must be > 0');
  return v;
}

/** Like decimalField, but a blank field is an unknown value (NaN). */
export function optionalDecimalField(field: string, s: string): number {
  return s === '' ? NaN : decimalField(field, s);
}

/** Epoch milliseconds (a plain non-negative integer) as exact epoch nanoseconds. */
export function epochMsField(field: string, s: string): bigint {
  if (!/^\d{1,15}$/.test(s)) throw new RowProblem(field, s, 'is not an epoch time in milliseconds');
  return BigInt(s) * 1_000_000n;
}

/**
 * Numbers the rows of each (kind, symbol) from 1 in time order, ties kept in input order (the sort
 * is stable). Seq must rise with ts_recv: core's sequence guard would drop a later-numbered event
 * that replay delivers first as a duplicate.
 */
export function sequenceByTime(rows: CatalogRow[]): void {
  const groups = new Map<string, CatalogRow[]>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.symbol}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : a.tsRecv > b.tsRecv ? 1 : 0));
    for (let i = 0; i < g.length; i++) g[i].seq = BigInt(i + 1);
  }
}

/** Events written per kind, as an ImportReport wants them. */
export function countByKind(rows: readonly CatalogRow[]): ImportReport['events'] {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}
