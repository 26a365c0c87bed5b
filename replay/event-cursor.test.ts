/**
 * The column cursor against the row decoder it replaced: the same events from a file of several
 * row groups (with vendor columns the cursor does not decode), with or without the decode worker,
 * and the order rule applied across a row-group boundary, where the previous row lives in the
 * previous batch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketEvent, TradeEvent } from '../core/events.ts';
import { decodeEvents, eventsToColumns } from './catalog-schema.ts';
import { DecodePool } from './decode-pool.ts';
import { EventCursor } from './event-cursor.ts';
import { EventMerge } from './merge.ts';
import { encodeParquet, openParquet } from './parquet-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-cursor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_710_460_800_000_000_000n;

function trades(n: number): TradeEvent[] {
  const out: TradeEvent[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = ['AAA', 'BBB', 'CCC'][i % 3];
    // the three symbols share each ts_recv (ties the merge settles on symbol)
    const tsRecv = T0 + BigInt(Math.floor(i / 3) * 1000 + 1);
    out.push({ kind: 'trade', tsEvent: tsRecv - 5n, tsRecv, symbol, seq: BigInt(Math.floor(i / 3) + 1), price: 100 + (i % 7) * 0.25, size: 1 + (i % 5), side: ([1, -1, 0] as const)[i % 3] });
  }
  return out;
}

function write(name: string, events: TradeEvent[], mutate?: (c: Record<string, unknown>) => void): string {
  const n = events.length;
  const extra = { exchange: events.map((_, i) => (i % 4 === 0 ? null : 'N')), conditions: events.map((_, i) => `@ ${i % 9}`) };
  const { specs, columns } = eventsToColumns('trade', events, extra);
  mutate?.(columns);
  const f = join(dir, `${name}.parquet`);
  writeFileSync(f, encodeParquet(specs, columns, n, { rowGroupSize: 1000 }));
  return f;
}

async function readAll(path: string, pool?: DecodePool): Promise<MarketEvent[]> {
  const c = await EventCursor.open(path, 'trade', {}, pool);
  EventCursor.start([c]);
  const m = new EventMerge([c]);
  const out: MarketEvent[] = [];
  for (let e = m.next(); e !== null; e = m.next()) out.push(e);
  return out;
}

describe('column cursor', () => {
  const events = trades(4500);
  const f = write('ok', events);

  it('gives the row decoder events, with vendor columns present and several row groups, with or without the decode worker', async () => {
    const src = await openParquet(f);
    expect(src.numRowGroups).toBe(5);
    const decoded: MarketEvent[] = [];
    for (let g = 0, first = 0; g < src.numRowGroups; first += src.rowGroupRows[g], g++) decoded.push(...decodeEvents('trade', src.readRowGroup(g), f, first));
    expect(decoded).toEqual(events);
    expect(await readAll(f)).toEqual(events);
    const pool = new DecodePool();
    try {
      expect(await readAll(f, pool)).toEqual(events);
    } finally {
      await pool.close();
    }
  });

  it('head is the event at the position: null before start and after the last row', async () => {
    const c = await EventCursor.open(f, 'trade');
    expect(c.head).toBeNull();
    EventCursor.start([c]);
    expect(c.head).toEqual(events[0]);
    for (let i = 1; i < events.length; i++) c.advance();
    expect(c.head).toEqual(events[events.length - 1]);
    c.advance();
    expect(c.head).toBeNull();
    expect(c.headT).toBe(Infinity);
  });

  it('merging two halves of the file by position gives the whole file in order', async () => {
    const a = write('a', events.filter((_, i) => i % 2 === 0));
    const b = write('b', events.filter((_, i) => i % 2 === 1));
    const cursors = [await EventCursor.open(a, 'trade'), await EventCursor.open(b, 'trade')];
    EventCursor.start(cursors);
    const m = new EventMerge(cursors);
    const keys: string[] = [];
    while (m.nextRow()) keys.push(`${m.batch!.tsRecv[m.row]}/${m.batch!.symbols[m.batch!.symbolId[m.row]]}/${m.batch!.seq[m.row]}`);
    expect(keys).toEqual(events.map((e) => `${e.tsRecv}/${e.symbol}/${e.seq}`));
  });

  it('refuses a row out of order at the first row of a row group, naming it and the row before', async () => {
    const bad = write('boundary', events, (c) => {
      const t = c.ts_recv as BigInt64Array;
      t[1000] = t[999] - 1n;
    });
    await expect(readAll(bad)).rejects.toThrow(`${bad}, row 1000, field ts_recv`);
    await expect(readAll(bad)).rejects.toThrow('comes before row 999');
  });

  it('refuses a sequence jump of a symbol whose previous row is in the previous row group', async () => {
    const bad = write('jump', events, (c) => {
      // row 1001 is CCC's first row of the second group; CCC's previous row (998) is in the first
      (c.seq as BigInt64Array)[1001] = 10n ** 15n;
    });
    await expect(readAll(bad)).rejects.toThrow(`${bad}, row 1001, field seq`);
  });
});
