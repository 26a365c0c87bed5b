/**
 * Live equals replay with corporate actions: the fixture day with a split of AAA announced on an
 * earlier date and in effect from 13:01 (PER/PBR restated from then on) and a dividend of BBB on
 * the day, through `lockstep feed`'s selection, the wire format, real Redis and a live worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CorporateActionEvent } from '../core/events.ts';
import { writeCatalog } from '../replay/catalog.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { writeReference } from './cross-impl.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';
import { runParity } from './run-parity.ts';

const DAY = 86_400_000_000_000n;
const t0 = BigInt(Date.parse(`${FIXTURE_DATE}T13:00:00Z`)) * 1_000_000n;
const base = { kind: 'corporate_action', tsEvent: t0 - 5n * DAY, tsRecv: t0 - 5n * DAY, symbol: 'AAA', seq: 1n } as const;
const ACTIONS: CorporateActionEvent[] = [
  { ...base, action: 'split', tsEx: t0 + 60_000_000_000n, ratio: 2, amount: NaN },
  { ...base, symbol: 'BBB', tsEvent: t0 + 1n, tsRecv: t0 + 1n, action: 'dividend', tsEx: t0 + DAY, ratio: NaN, amount: 0.5 },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-corpact-parity-'));
  writeCatalog(join(dir, 'cat'), [...fixtureRows(), ...ACTIONS]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a day with an earlier-dated split and a dividend: live == replay, every cell', async () => {
  const cert = await runParity({ catalog: join(dir, 'cat'), date: FIXTURE_DATE });
  expect(cert.diff.mismatchedCells).toBe(0);
  expect(cert.diff.onlyInA).toBe(0);
  expect(cert.diff.onlyInB).toBe(0);
  expect(cert.outputs.liveTableHash).toBe(cert.outputs.replayTableHash);
  expect(cert.verdict).toBe('parity');
  // both corporate actions reached the live side (the split from its earlier date)
  expect(cert.inputs.filter((f) => f.path.includes(join('corporate_action', ''))).length).toBe(2);
}, 120_000);

it('the SQL reference keys the same rows, corporate actions included, and agrees on its columns', async () => {
  const out = join(dir, 'reference.parquet');
  await writeReference({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out });
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'replay.parquet'), progress: false });
  const ref = await readFactorTable(out);
  const rep = await readFactorTable(join(dir, 'replay.parquet'));
  // heartbeat rows differ by design (the reference keeps those that change its own columns)
  const events = (t: FactorTable) => t.seq.flatMap((_, i) => (t.source[i] === 'heartbeat' ? [] : [i]));
  const [ri, wi] = [events(ref), events(rep)];
  expect(ri.length).toBe(wi.length);
  expect(ri.filter((i) => ref.source[i] === 'corporate_action').length).toBe(2);
  for (let k = 0; k < ri.length; k++) {
    const [i, j] = [ri[k], wi[k]];
    expect([ref.symbol[i], ref.source[i], ref.seq[i]]).toEqual([rep.symbol[j], rep.source[j], rep.seq[j]]);
    for (const c of ['ma_5m', 'vwap_session']) {
      const a = ref.values[c][i];
      const b = rep.values[c][j];
      if (a === null || b === null) expect(a, `${c} row ${i}`).toBe(b);
      else expect(Math.abs(a - b) / Math.abs(b), `${c} row ${i}`).toBeLessThan(1e-12);
    }
  }
}, 60_000);
