/**
 * Loads a factor table for the diff from a Parquet file (a replay's output), a CSV file with the
 * same columns (e.g. written by a researcher's pandas or polars code), or a live deployment's
 * output streams (`redis://host:port/?ns=ls&shards=4`).
 */
import { readFileSync } from 'node:fs';
import type { DiffTable } from './diff.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { UsageError } from '../replay/errors.ts';

export async function loadTable(src: string): Promise<DiffTable> {
  if (/^rediss?:\/\//.test(src)) return loadRedis(src);
  if (src.endsWith('.csv')) return loadCsv(src);
  const t = await readFactorTable(src);
  return { columns: t.columns, symbol: t.symbol, source: t.source, seq: t.seq, tsRecv: t.tsRecv, values: t.values };
}

async function loadRedis(url: string): Promise<DiffTable> {
  const u = new URL(url);
  const ns = u.searchParams.get('ns') ?? 'ls';
  const shards = Number(u.searchParams.get('shards'));
  if (!Number.isInteger(shards) || shards < 1) throw new UsageError(`${url}: add ?shards=N (and ?ns=...) to read a live capture`);
  u.search = '';
  const { openRedis } = await import('../live/redis-connect.ts');
  const { readOutputRows } = await import('../live/read-output.ts');
  const r = await openRedis(u.toString(), { name: 'lockstep-parity' });
  try {
    const { columns, rows } = await readOutputRows(r, { ns, shards });
    const values: Record<string, (number | null)[]> = Object.fromEntries(columns.map((c) => [c, []]));
    for (const row of rows) columns.forEach((c, i) => values[c].push(row.values[i]));
    return { columns, symbol: rows.map((x) => x.symbol), source: rows.map((x) => x.source), seq: rows.map((x) => x.seq), tsRecv: rows.map((x) => x.tsRecv), values };
  } finally {
    r.disconnect();
  }
}

/** CSV with a header: symbol, source, seq, ts_recv (ns integer) and factor columns; empty = null. */
function loadCsv(path: string): DiffTable {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const idx = (c: string) => {
    const i = header.indexOf(c);
    if (i < 0) throw new UsageError(`${path}: missing column ${c}`);
    return i;
  };
  const [si, so, sq, tr] = ['symbol', 'source', 'seq', 'ts_recv'].map(idx);
  const factorCols = header.filter((c) => !['symbol', 'source', 'seq', 'ts_event', 'ts_recv'].includes(c));
  const t: DiffTable = { columns: header, symbol: [], source: [], seq: [], tsRecv: [], values: Object.fromEntries(factorCols.map((c) => [c, []])) };
  for (let n = 1; n < lines.length; n++) {
    const f = lines[n].split(',');
    t.symbol.push(f[si]);
    t.source.push(f[so]);
    t.seq.push(BigInt(f[sq]));
    t.tsRecv.push(BigInt(f[tr]));
    for (const c of factorCols) {
      const v = f[header.indexOf(c)];
      t.values[c].push(v === '' || v === undefined ? null : Number(v));
    }
  }
  return t;
}
