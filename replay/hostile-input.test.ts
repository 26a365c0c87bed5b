/**
 * Hostile but well-formed catalog rows (core/plausibility.ts) through the real CLI: one line
 * naming file, row, field and value, exit 2; never a replay that silently drops the rest of a day.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsToColumns } from './catalog-schema.ts';
import { encodeParquet } from './parquet-io.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const Y2100 = 4_102_444_800n * 1_000_000_000n;
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lockstep-hostile-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One symbol's trades of the fixture as a catalog of one file, with `mutate` applied to its columns. */
function catalog(name: string, mutate: (c: Record<string, unknown>) => void): { root: string; file: string } {
  const trades = fixtureRows().filter((r) => r.kind === 'trade' && r.symbol === 'AAA').slice(0, 60).sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : 1));
  const { specs, columns, n } = eventsToColumns('trade', trades);
  mutate(columns as Record<string, unknown>);
  const d = join(dir, name, 'trade', FIXTURE_DATE);
  mkdirSync(d, { recursive: true });
  const file = join(d, 'AAA.parquet');
  writeFileSync(file, encodeParquet(specs, columns, n));
  return { root: join(dir, name), file };
}

const replay = (root: string) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', root, '--date', FIXTURE_DATE, '--out', join(dir, 'out.parquet')], { encoding: 'utf8', cwd: ROOT });

function expectOneLine(r: ReturnType<typeof replay>, text: string): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(text);
}

describe('replay refuses hostile but well-formed rows (plausibility rule)', () => {
  it('a sequence number 10^15 ahead of the source', () => {
    const { root, file } = catalog('seq', (c) => ((c.seq as BigInt64Array)[20] = 10n ** 15n));
    expectOneLine(replay(root), `${file}, row 20, field seq: jumps more than 1000000000 ahead of the source's last sequence number`);
  });

  it('a price of 1e308', () => {
    const { root, file } = catalog('price', (c) => ((c.price as Float64Array)[9] = 1e308));
    expectOneLine(replay(root), `${file}, row 9, field price: must be a finite number of magnitude < 1000000000000000 (value 1e+308)`);
  });

  it('an event dated 2100', () => {
    const { root, file } = catalog('te', (c) => ((c.ts_event as BigInt64Array)[30] = Y2100));
    expectOneLine(replay(root), `${file}, row 30, field ts_event: is more than 1 day after ts_recv`);
  });

  it('a sequence number 10^15 ahead in a file of several symbols', () => {
    const trades = fixtureRows().filter((r) => r.kind === 'trade').slice(0, 60).sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : 1));
    const row = trades.findIndex((r, i) => i > 20 && r.symbol !== trades[i - 1].symbol);
    const { specs, columns, n } = eventsToColumns('trade', trades);
    (columns.seq as BigInt64Array)[row] = 10n ** 15n;
    const d = join(dir, 'mixed', 'trade', FIXTURE_DATE);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'all.parquet'), encodeParquet(specs, columns, n));
    expectOneLine(replay(join(dir, 'mixed')), `${join(d, 'all.parquet')}, row ${row}, field seq: jumps more than 1000000000 ahead`);
  });

  it('the same file without the hostile row replays', () => {
    const { root } = catalog('ok', () => {});
    expect(replay(root).status).toBe(0);
  });
});
