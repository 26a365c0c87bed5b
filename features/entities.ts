/**
 * The entity table (Feast's entity dataframe): the user's own (symbol, timestamp) rows, from
 * Parquet or CSV. Each row gets the features as of its instant; rows come back in the user's order
 * (`entity_row` is the 0-based row). Timestamps are exact nanoseconds: an int64 count of ns since
 * the epoch, a Parquet TIMESTAMP of any unit, or ISO-8601 text with up to 9 fractional digits
 * (`2024-03-15T14:30:00.123456789Z`; a `+HH:MM` offset is honoured, no zone means UTC).
 * A bad file is one InputError naming the file, row, field and value.
 */
import { readFileSync } from 'node:fs';
import type { Data } from 'apache-arrow';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { EntityRow } from './builder.ts';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

/** An entity timestamp as epoch ns, or null when it is neither an int64 of ns nor ISO-8601. */
export function parseTimestamp(text: string): bigint | null {
  const s = text.trim();
  if (/^-?\d{1,19}$/.test(s)) {
    const v = BigInt(s);
    return v >= -(1n << 63n) && v < 1n << 63n ? v : null;
  }
  const m = ISO.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(ms).getUTCDate() !== d) return null; // 2024-02-30 is not a day
  let ns = BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    const [zh, zm] = zone.slice(1).split(':').map(Number);
    if (zh > 23 || zm > 59) return null;
    ns -= sign * BigInt(zh * 3600 + zm * 60) * 1_000_000_000n;
  }
  return ns;
}

function csvFields(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

function readCsv(file: string): EntityRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError({ file, reason: `cannot read the entity file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  const lines = text.split(/\r?\n/);
  const header = csvFields(lines[0] ?? '');
  const si = header.indexOf('symbol');
  const ti = header.indexOf('timestamp');
  for (const [i, name] of [[si, 'symbol'], [ti, 'timestamp']] as const) {
    if (i < 0) throw new InputError({ file, row: 1, rowLabel: 'line', field: name, reason: `the entity file has no ${name} column (header: ${header.join(',') || 'empty'})` });
  }
  const out: EntityRow[] = [];
  for (let l = 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue;
    const f = csvFields(lines[l]);
    const symbol = f[si] ?? '';
    if (symbol === '') throw new InputError({ file, row: l + 1, rowLabel: 'line', field: 'symbol', value: symbol, reason: 'empty symbol' });
    const ts = parseTimestamp(f[ti] ?? '');
    if (ts === null) throw new InputError({ file, row: l + 1, rowLabel: 'line', field: 'timestamp', value: f[ti] ?? '', reason: 'not a timestamp (int64 ns since the epoch, or ISO-8601 with up to 9 fractional digits)' });
    out.push({ symbol, ts, row: out.length });
  }
  return out;
}

const UNIT_NS: Record<string, bigint> = { SECOND: 1_000_000_000n, MILLISECOND: 1_000_000n, MICROSECOND: 1_000n, NANOSECOND: 1n };

async function readParquetEntities(file: string): Promise<EntityRow[]> {
  const src = await openParquet(file);
  const names = src.columns.map((c) => c.name);
  for (const name of ['symbol', 'timestamp']) {
    if (!names.includes(name)) throw new InputError({ file, field: name, reason: `the entity file has no ${name} column (columns: ${names.join(', ')})` });
  }
  const out: EntityRow[] = [];
  for (let g = 0; g < src.numRowGroups; g++) {
    const t = src.readRowGroup(g, ['symbol', 'timestamp']);
    const sym = t.getChild('symbol')!;
    const tsv = t.getChild('timestamp')!;
    const type = tsv.type as { typeId: number; unit?: number | string; toString(): string };
    const typeName = String(type);
    const unitName = /Timestamp<(\w+)/.exec(typeName)?.[1];
    const datas = tsv.data as Data[];
    let base = 0;
    for (const d of datas) {
      for (let i = 0; i < d.length; i++) {
        const row = out.length;
        const s = sym.get(base + i) as unknown;
        if (typeof s !== 'string' || s === '') throw new InputError({ file, row, field: 'symbol', value: s ?? null, reason: 'empty or not text' });
        let ts: bigint | null = null;
        const nullAt = d.nullBitmap && d.nullCount > 0 && ((d.nullBitmap[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1) === 0;
        if (nullAt) ts = null;
        else if (unitName && UNIT_NS[unitName] !== undefined) ts = (d.values as BigInt64Array)[d.offset + i] * UNIT_NS[unitName];
        else if (/^Int64/.test(typeName)) ts = (d.values as BigInt64Array)[d.offset + i];
        else {
          const v = tsv.get(base + i) as unknown;
          ts = typeof v === 'string' ? parseTimestamp(v) : null;
        }
        if (ts === null) throw new InputError({ file, row, field: 'timestamp', value: nullAt ? null : String(tsv.get(base + i)), reason: 'not a timestamp (int64 ns, a Parquet TIMESTAMP, or ISO-8601 text)' });
        out.push({ symbol: s, ts, row });
      }
      base += d.length;
    }
  }
  return out;
}

/** The entity rows of `file` (.parquet or .csv), in the file's order. */
export async function readEntities(file: string): Promise<EntityRow[]> {
  if (/\.parquet$/i.test(file)) return readParquetEntities(file);
  if (/\.csv$/i.test(file)) return readCsv(file);
  throw new InputError({ file, reason: 'an entity file is .parquet or .csv' });
}

/** Entity rows in sampling order: ascending instant, ties in the user's order. */
export function samplingOrder(rows: readonly EntityRow[]): EntityRow[] {
  return [...rows].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.row - b.row));
}
