/**
 * `parity run --live-from HH:MM`: the live side joins the session mid-day, its workers warm up from
 * the catalog (`lockstep live --warm-from`), and its rows must equal the whole-day replay's rows of
 * the same events. The same run with cold workers must be caught as skew.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { generateDay } from '../datasets/generate.ts';
import { readLineage } from '../replay/lineage.ts';
import { runParity } from './run-parity.ts';

const DATE = '2024-03-15';
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-live-from-'));
  await generateDay({ date: DATE, symbols: 3, seed: 21, preset: 'tiny', out: join(dir, 'cat') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parity run --live-from', () => {
  it('workers started at 16:00 with --warm-from certify against the whole-day replay', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, liveFrom: '16:00', workers: 2, certificate: join(dir, 'warm.json') });
    expect(cert.verdict).toBe('parity');
    expect(cert.scenario).toMatchObject({ liveFrom: '16:00', warmStart: 'catalog', workers: 2 });
    expect(cert.diff.mismatchedCells).toBe(0);
    expect(cert.diff.onlyInA + cert.diff.onlyInB).toBe(0);
    // only the rows from 16:00 are compared: the tiny day has ~35.6k rows, ~19.3k of them after 16:00
    expect(cert.outputs.rows).toBeGreaterThan(10_000);
    expect(cert.outputs.rows).toBeLessThan(30_000);
    expect(cert.outputs.liveTableHash).toBe(cert.outputs.replayTableHash);
    expect(cert.servedLatest).toEqual({ symbols: 3, mismatched: 0 });
    // the certificate's lineage: the certified feature set and the replay's input files, hashed
    const l = await readLineage(join(dir, 'warm.json'));
    expect(l.featureSetVersion).toBe(cert.code.featureSetVersion);
    expect(l.factors.map((f) => f.codeHash)).toEqual(cert.code.factors.map((f) => f.codeHash));
    expect(l.inputs.map((f) => f.sha256)).toEqual(cert.inputs.map((f) => f.sha256));
    expect(l.inputs.every((f) => !f.path.startsWith('/') && f.bytes > 0)).toBe(true);
  });

  it('the same run with cold workers (--no-warm) is skew', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, liveFrom: '16:00', warm: false });
    expect(cert.verdict).toBe('skew');
    expect(cert.scenario.warmStart).toBe('cold');
    expect(cert.diff.mismatchedCells).toBeGreaterThan(1000);
    expect(cert.servedLatest.mismatched).toBeGreaterThan(0);
  });

  it('refuses a replay window with it, and a time that is not HH:MM', async () => {
    await expect(runParity({ catalog: join(dir, 'cat'), date: DATE, liveFrom: '16:00', from: '15:00' })).rejects.toThrow(UsageError);
    await expect(runParity({ catalog: join(dir, 'cat'), date: DATE, liveFrom: '4pm' })).rejects.toThrow(/--live-from "4pm" must be HH:MM/);
  });
});
