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
