/**
 * Test support: the real recorded days (../shared/data/real, testing/real-data.ts) imported with
 * the platform's own importers into a temporary catalog, and read back as one symbol's market
 * events in the replay's merge order (core/events.ts compareEvents). Not part of the simulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { compareEvents, type Kind, type MarketEvent } from '../../core/events.ts';
import { decodeEvents } from '../../replay/catalog-schema.ts';
import { openParquet } from '../../replay/parquet-io.ts';
import type { ImportReport } from '../../datasets/import-report.ts';

/** Imports into a fresh temp catalog and returns `symbol`'s book, quote and trade events of `date`, merged. */
export async function importedEvents(
  importer: (outDir: string) => Promise<ImportReport>,
  symbol: string,
  dates: string[],
  kinds: Kind[] = ['book', 'quote', 'trade'],
): Promise<MarketEvent[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-sim-'));
  try {
    const report = await importer(dir);
    const events: MarketEvent[] = [];
    for (const f of report.files) {
      const kind = kinds.find((k) => f.includes(`${sep}${k}${sep}`));
      if (!kind || !dates.some((d) => f.includes(`${sep}${d}${sep}`)) || !f.endsWith(`${sep}${symbol}.parquet`)) continue;
      const src = await openParquet(f);
      let row = 0;
      for (let g = 0; g < src.numRowGroups; g++) {
        const t = src.readRowGroup(g);
        for (const e of decodeEvents(kind, t, f, row)) if (e.symbol === symbol) events.push(e);
        row += t.numRows;
      }
    }
    return events.sort(compareEvents);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
