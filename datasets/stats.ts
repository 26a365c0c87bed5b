/**
 * `lockstep datasets stats`: events per kind, symbol and date, the time span, and the total.
 * Reads only the symbol and ts_recv columns of each file.
 */
import type { Kind } from '../core/events.ts';
import { listCatalog } from '../replay/catalog.ts';
import { chunkValues, openParquet } from '../replay/parquet-io.ts';
import { isoNs } from '../replay/time-format.ts';

export interface CatalogStats {
  catalog: string;
  events: number;
  files: number;
  byKind: Partial<Record<Kind, number>>;
  bySymbol: Record<string, number>;
  byDate: Record<string, number>;
  /** ISO-8601 UTC with nanoseconds, from ts_recv. */
  first: string | null;
  last: string | null;
}

export async function catalogStats(root: string): Promise<CatalogStats> {
  const files = listCatalog(root);
  const byKind: Partial<Record<Kind, number>> = {};
  const bySymbol: Record<string, number> = {};
  const byDate: Record<string, number> = {};
  let first: bigint | null = null;
  let last: bigint | null = null;
  let events = 0;
  for (const f of files) {
    const src = await openParquet(f.path);
    byKind[f.kind] = (byKind[f.kind] ?? 0) + src.numRows;
    byDate[f.date] = (byDate[f.date] ?? 0) + src.numRows;
    events += src.numRows;
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g, ['symbol', 'ts_recv']);
      const sym = t.getChild('symbol')!;
      for (let i = 0; i < t.numRows; i++) {
        const s = (sym.get(i) as string | null) ?? '';
        if (f.kind !== 'heartbeat') bySymbol[s] = (bySymbol[s] ?? 0) + 1;
      }
      for (const d of t.getChild('ts_recv')!.data) {
        const v = chunkValues(d as unknown as { values: BigInt64Array; offset: number; length: number });
        for (let i = 0; i < v.length; i++) {
          if (first === null || v[i] < first) first = v[i];
          if (last === null || v[i] > last) last = v[i];
        }
      }
    }
  }
  const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    catalog: root,
    events,
    files: files.length,
    byKind,
    bySymbol: sorted(bySymbol),
    byDate: sorted(byDate),
    first: first === null ? null : isoNs(first),
    last: last === null ? null : isoNs(last),
  };
}

export function formatStats(s: CatalogStats): string {
  const lines = [`catalog ${s.catalog}: ${s.events.toLocaleString('en-US')} events in ${s.files} files`, `span    ${s.first ?? '-'} .. ${s.last ?? '-'}`, '', 'by kind'];
  // 12 wide, wider only for a longer kind name (corporate_action), so other catalogs print as before
  const kindWidth = Math.max(12, ...Object.keys(s.byKind).map((k) => k.length));
  for (const [k, n] of Object.entries(s.byKind)) lines.push(`  ${k.padEnd(kindWidth)} ${n.toLocaleString('en-US').padStart(12 + 12 - kindWidth)}`);
  lines.push('by date');
  for (const [k, n] of Object.entries(s.byDate)) lines.push(`  ${k.padEnd(12)} ${n.toLocaleString('en-US').padStart(12)}`);
  const syms = Object.entries(s.bySymbol);
  lines.push(`by symbol (${syms.length})`);
  for (const [k, n] of syms.slice(0, 20)) lines.push(`  ${k.padEnd(12)} ${n.toLocaleString('en-US').padStart(12)}`);
  if (syms.length > 20) lines.push(`  ... ${syms.length - 20} more (use --json for all)`);
  return lines.join('\n');
}
