/**
 * trainingSet is `lockstep training-set` as a function: the same builder and bytes, returned as an
 * Arrow table with exact nanoseconds, and a temporary file removed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { generateDay } from '../datasets/generate.ts';
import { readTrainingSet } from '../features/table-io.ts';
import { toArquero } from './arquero.ts';
import { trainingSet } from './training-set.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const DATE = '2024-03-15';

describe('trainingSet', () => {
  let dir: string;
  let catalog: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-ts-api-'));
    catalog = join(dir, 'catalog');
    await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: catalog });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns what `lockstep training-set` writes, exactly, and leaves no file behind', async () => {
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'training-set', '--catalog', catalog, '--date', DATE, '--sample', 'every:1m', '--labels', 'fwd_return:5m', '--features', 'mid,rsi_14', '--out', join(dir, 'cli.parquet')], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const viaCli = await readTrainingSet(join(dir, 'cli.parquet'));
    const temps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('lockstep-training-set-')).length;
    const before = temps();
    let fsv = '';
    const t = await trainingSet({ catalog, dates: DATE, sample: 'every:1m', labels: 'fwd_return:5m', features: ['mid', 'rsi_14'], onResult: (r) => (fsv = r.featureSetVersion) });
    expect(temps()).toBe(before);
    expect(t.numRows).toBe(viaCli.rows.length);
    expect(t.schema.fields.map((f) => f.name)).toEqual(viaCli.columns);
    expect(fsv).toBe(viaCli.metadata.featureSetVersion);
    const dt = toArquero(t);
    expect(dt.array('ts')).toEqual(viaCli.rows.map((r) => r.ts));
    for (const c of ['mid', 'rsi_14', 'fwd_ret_mid_5m']) expect(dt.array(c)).toEqual(viaCli.rows.map((r) => r[c]));
    expect(typeof dt.get('ts', 0)).toBe('bigint');
  });

  it('checks its options with the CLI\'s parsers', async () => {
    await expect(trainingSet({ catalog, dates: DATE, sample: 'every:soon' })).rejects.toThrow(UsageError);
    await expect(trainingSet({ catalog, dates: DATE, sample: 'every:1m', labels: 'fwd_return:5 minutes' })).rejects.toThrow(UsageError);
  });
});
