/** Lineage in a replay's factor table, `lockstep lineage FILE` printing it, and the compare. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion } from '../core/registry.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';
import { listCatalog, writeCatalog } from './catalog.ts';
import { compareLineage, lineageOf, readLineage, type Lineage } from './lineage.ts';
import { runReplay } from './run-replay.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'lineage', ...args], { encoding: 'utf8', cwd: ROOT });
let dir: string;
let lineage: Lineage;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-lineage-'));
  writeCatalog(join(dir, 'cat'), fixtureRows());
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'a.parquet'), progress: false });
  lineage = await readLineage(join(dir, 'a.parquet'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lineage of a replay', () => {
  it('records the Lockstep version, the feature set, each factor code hash and every file read with its sha256', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(lineage.lockstepVersion).toBe(pkg.version);
    expect(lineage.featureSetVersion).toBe(featureSetVersion(DEFAULT_FACTORS));
    expect(lineage.factors.map((f) => [f.name, f.codeHash])).toEqual(factorManifest(DEFAULT_FACTORS).map((f) => [f.name, f.codeHash]));
    const files = listCatalog(join(dir, 'cat'));
    expect(lineage.inputs.map((f) => f.path).sort()).toEqual(files.map((f) => f.path.slice(join(dir, 'cat').length + 1)).sort());
    for (const f of lineage.inputs) {
      const bytes = readFileSync(join(dir, 'cat', f.path));
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(f.bytes).toBe(bytes.length);
    }
    // what lineageOf gives for the same factors and files (training sets call it)
    expect(lineageOf({ factors: DEFAULT_FACTORS, files: files.map((f) => f.path), root: join(dir, 'cat') }).inputs.sort((x, y) => (x.path < y.path ? -1 : 1))).toEqual([...lineage.inputs].sort((x, y) => (x.path < y.path ? -1 : 1)));
  });

  it('lockstep lineage FILE prints it', () => {
    const r = cli(join(dir, 'a.parquet'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Lockstep ${lineage.lockstepVersion}, feature set ${lineage.featureSetVersion} (${lineage.factors.length} factors)`);
    expect(r.stdout).toMatch(new RegExp(`\\n    ma_5m +v1  ${lineage.factors.find((f) => f.name === 'ma_5m')!.codeHash.slice(0, 12)}  \\{"bars":5,"session":"all"\\}\\n`));
    expect(r.stdout).toMatch(/\n {4}[0-9a-f]{12} {2}trade\/2024-03-15\/[A-C]{3}\.parquet\n/);
    const json = cli(join(dir, 'a.parquet'), '--json');
    expect(JSON.parse(json.stdout)).toEqual(lineage);
  });

  it('the compare says a model trained on A can be served by the same feature set, and names a factor whose code changed', () => {
    expect(compareLineage(lineage, lineage)).toMatchObject({ servable: true, sameFeatureSet: true, changed: [] });
    const changed: Lineage = { ...lineage, featureSetVersion: '0123456789abcdef', factors: lineage.factors.map((f) => (f.name === 'rsi_14' ? { ...f, codeHash: 'ffffffffffffffff' } : f)) };
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ lineage: changed }));
    const c = compareLineage(lineage, changed);
    expect(c.servable).toBe(false);
    expect(c.changed).toEqual([{ name: 'rsi_14', what: [`code hash ${lineage.factors.find((f) => f.name === 'rsi_14')!.codeHash.slice(0, 12)} -> ffffffffffff`] }]);
    const r = cli(join(dir, 'a.parquet'), join(dir, 'b.json'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^NOT SERVABLE: a model trained on .*a\.parquet cannot be served by .*b\.json: feature set [0-9a-f]{16} vs 0123456789abcdef, 1 of its factors differ or are missing\n {2}changed: rsi_14: code hash [0-9a-f]{12} -> ffffffffffff\n$/);
    const same = cli(join(dir, 'a.parquet'), '--against', join(dir, 'a.parquet'));
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^SERVABLE: a model trained on .* can be served by .* \(feature set [0-9a-f]{16} on both: 32 factors, same code hashes\)\n$/);
  });

  it('a file without lineage is one line naming it, exit 2', () => {
    writeFileSync(join(dir, 'x.json'), '{"verdict":"parity"}');
    const r = cli(join(dir, 'x.json'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${join(dir, 'x.json')}: holds no lineage (written by a Lockstep without lineage, or not a Lockstep output)`);
    expect(cli().status).toBe(2);
  });
});
