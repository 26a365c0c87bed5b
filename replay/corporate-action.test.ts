/**
 * `corporate_action` rows in the catalog: they round-trip through Parquet, a replay of date D reads
 * those announced on earlier dates (point-in-time reference data, like fundamentals), they sort
 * before the fundamentals row of the same instant, the valuation factors restate from the ex
 * instant on, every other column of every other row is unchanged, and a hostile row is refused
 * with file, row, field and value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareEvents, type CorporateActionEvent, type FundamentalEvent } from '../core/events.ts';
import { listCatalog, writeCatalog, type CatalogRow } from './catalog.ts';
import { decodeEvents } from './catalog-schema.ts';
import { openParquet } from './parquet-io.ts';
import { readFactorTable, type FactorTable } from './read-factor-table.ts';
import { runReplay } from './run-replay.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const DAY = 86_400_000_000_000n;
const t0 = BigInt(Date.parse(`${FIXTURE_DATE}T13:00:00Z`)) * 1_000_000n;
const ca = (over: Partial<CorporateActionEvent>): CorporateActionEvent => ({
  kind: 'corporate_action', tsEvent: t0 - 5n * DAY, tsRecv: t0 - 5n * DAY, symbol: 'AAA', seq: 1n, action: 'split', tsEx: t0 + 60_000_000_000n, ratio: 2, amount: NaN, ...over,
});
/** A 2:1 split of AAA announced five days before, in effect from 13:01; a dividend of BBB announced on the day. */
const ACTIONS: CorporateActionEvent[] = [ca({}), ca({ symbol: 'BBB', tsEvent: t0 + 1n, tsRecv: t0 + 1n, action: 'dividend', ratio: NaN, amount: 0.5, tsEx: t0 + DAY })];

let dir: string;
let plain: FactorTable;
let withActions: FactorTable;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-corpact-'));
  const rows: CatalogRow[] = fixtureRows();
  writeCatalog(join(dir, 'plain'), rows);
  writeCatalog(join(dir, 'actions'), [...rows, ...ACTIONS]);
  for (const name of ['plain', 'actions']) await runReplay({ catalog: join(dir, name), date: FIXTURE_DATE, out: join(dir, `${name}.parquet`), progress: false });
  plain = await readFactorTable(join(dir, 'plain.parquet'));
  withActions = await readFactorTable(join(dir, 'actions.parquet'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('corporate actions in the catalog and the replay', () => {
  it('round-trip through Parquet bit for bit, in the date of their announcement', async () => {
    const files = listCatalog(join(dir, 'actions')).filter((f) => f.kind === 'corporate_action');
    expect(files.map((f) => [f.date, f.part])).toEqual([['2024-03-10', 'AAA'], [FIXTURE_DATE, 'BBB']]);
    const back = [];
    for (const f of files) back.push(...decodeEvents('corporate_action', (await openParquet(f.path)).readRowGroup(0), f.path, 0));
    expect(back).toEqual(ACTIONS);
  });

  it('a replay reads the split announced on an earlier date; PER/PBR of AAA restate from 13:01, nothing else changes', () => {
    const sources = withActions.source.filter((s) => s === 'corporate_action');
    expect(sources).toHaveLength(2);
    expect(withActions.seq.length).toBe(plain.seq.length + 2);
    let j = 0;
    let restated = 0;
    // the factors see trades, not quotes or book rows: the split shows from AAA's first trade at or after 13:01
    let inEffect = false;
    for (let i = 0; i < withActions.seq.length; i++) {
      if (withActions.source[i] === 'corporate_action') continue;
      if (withActions.symbol[i] === 'AAA' && withActions.source[i] === 'trade' && withActions.tsEvent[i] >= t0 + 60_000_000_000n) inEffect = true;
      expect([withActions.symbol[i], withActions.source[i], withActions.seq[i]]).toEqual([plain.symbol[j], plain.source[j], plain.seq[j]]);
      for (const c of Object.keys(plain.values)) {
        const a = withActions.values[c][i];
        const b = plain.values[c][j];
        if ((c === 'per' || c === 'pbr') && withActions.symbol[i] === 'AAA' && inEffect && b !== null) {
          // after the ex instant: EPS and book value per share on the new basis (halved), price as traded
          expect(a, `${c} row ${i}`).toBeCloseTo(b * 2, 9);
          restated++;
        } else {
          expect(a, `${c} row ${i}`).toBe(b);
        }
      }
      j++;
    }
    expect(restated).toBeGreaterThan(100);
  });

  it('sorts before a fundamentals row of the same instant', () => {
    const f: FundamentalEvent = { kind: 'fundamental', tsEvent: 5n, tsRecv: 5n, symbol: 'A', seq: 1n, fiscalYear: 2024, fiscalPeriod: 'Q1', eps: 1, epsTtm: 4, bookValuePerShare: 2, sharesOutstanding: 1 };
    expect(compareEvents(ca({ symbol: 'Z', tsEvent: 5n, tsRecv: 5n, tsEx: 5n }), f)).toBeLessThan(0);
  });

  it('a split dated decades from its announcement is refused with file, row, field and value (exit 2)', () => {
    const root = join(dir, 'hostile');
    writeCatalog(root, [...fixtureRows().filter((r) => r.kind !== 'book'), ca({ tsEx: t0 + 20_000n * DAY })]);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', root, '--date', FIXTURE_DATE, '--out', join(dir, 'x.parquet')], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${join(root, 'corporate_action', '2024-03-10', 'AAA.parquet')}, row 0, field ts_ex: is more than 400 days from the announcement`);
  });
});
