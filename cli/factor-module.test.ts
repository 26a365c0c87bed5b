/**
 * Your own factors through the real CLI (`node bin/lockstep.js`): `--factors` with a module and a
 * factor set file on replay (real Parquet out), `--only`, `factors check` on good, broken and impure
 * modules, the bad-input lines, and `lockstep live` refusing a set other than its deployment's (real
 * redis-server), and `parity run --factors` on a window of the small synthetic day.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { metaKey } from '../live/keys.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const MODULE = join(ROOT, 'examples/my-factors.ts');
const SET = join(ROOT, 'examples/my-factor-set.json');
const DATE = '2024-03-15';
let dir: string;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: dir });
/** A window of the small synthetic day: enough quotes and bars, a fraction of a second to replay. */
const replay = (out: string, ...more: string[]) => cli('replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '13:00', '--to', '15:00', '--out', join(dir, out), ...more);
const fsv = (t: FactorTable) => (JSON.parse(t.metadata.get('lockstep')!) as { featureSetVersion: string }).featureSetVersion;

/** Expects exit 2 and exactly one line on stderr, and returns it. */
function oneLine(r: ReturnType<typeof cli>): string {
  expect(r.status, r.stderr + r.stdout).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

/** Writes a factor module into the scratch directory; `update` is the body of its one factor's update. */
function module(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import { defineFactor } from 'lockstep';\n${body}\n`);
  return file;
}
const factor = (name: string, update: string, extra = '') =>
  `defineFactor({ name: '${name}', version: 1, description: 'test', params: {}, rules: {}, inputs: ['trade'], warmup: 'none', init: () => ({ n: 0 }), update: ${update}${extra} })`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-userfac-'));
  await generateDay({ date: DATE, symbols: 2, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--factors on replay', () => {
  let base: FactorTable;
  beforeAll(async () => {
    expect(replay('base.parquet').status).toBe(0);
    base = await readFactorTable(join(dir, 'base.parquet'));
  });

  it('a module adds its factors after the default set: real values in the Parquet, and another feature-set version', async () => {
    const r = replay('mod.parquet', '--factors', MODULE);
    expect(r.status, r.stderr).toBe(0);
    const t = await readFactorTable(join(dir, 'mod.parquet'));
    const own = t.columns.filter((c) => !base.columns.includes(c));
    expect(own).toEqual(['spread_bps', 'mid_change_20q']);
    expect(t.values.spread_bps.filter((v) => v !== null).length).toBeGreaterThan(100);
    expect(t.values.mid_change_20q.filter((v) => v !== null).length).toBeGreaterThan(100);
    // the default columns are untouched by the added ones
    expect(t.values.rsi_14).toEqual(base.values.rsi_14);
    expect(fsv(t)).not.toBe(fsv(base));
    const manifest = JSON.parse(t.metadata.get('lockstep')!).factors as { name: string; codeHash: string }[];
    expect(manifest.at(-1)).toMatchObject({ name: 'mid_change_20q', codeHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('--only runs a subset: the table holds exactly those columns', async () => {
    const r = replay('only.parquet', '--factors', MODULE, '--only', 'mid,macd,spread_bps');
    expect(r.status, r.stderr).toBe(0);
    const t = await readFactorTable(join(dir, 'only.parquet'));
    expect(Object.keys(t.values)).toEqual(['macd', 'macd_signal', 'macd_hist', 'mid', 'spread_bps']);
    expect(oneLine(replay('x.parquet', '--only', 'nope'))).toMatch(/--only nope: no factor nope in the set/);
    expect(oneLine(replay('x.parquet', '--only', 'macd_hist'))).toMatch(/macd_hist is an extra column of macd/);
  });

  it('a set file runs exactly its list: five ma instances under their own names and two of a module factor', async () => {
    const r = replay('set.parquet', '--factors', SET);
    expect(r.status, r.stderr).toBe(0);
    const t = await readFactorTable(join(dir, 'set.parquet'));
    expect(Object.keys(t.values)).toEqual(['last_price', 'mid', 'ma_5m', 'ma_10m', 'ma_20m', 'ma_50m', 'ma_100m', 'spread_bps', 'mid_change_20q', 'mid_change_100q']);
    // ma_5m is the default set's own, bit for bit; the 10-bar one differs
    const pairs = (t2: FactorTable, c: string) => t2.seq.map((s, i) => `${t2.symbol[i]}/${s}/${t2.source[i]}=${t2.values[c][i]}`);
    const inBase = new Set(pairs(base, 'ma_5m'));
    expect(pairs(t, 'ma_5m').every((p) => inBase.has(p))).toBe(true);
    expect(t.values.ma_10m.some((v, i) => v !== null && v !== t.values.ma_5m[i])).toBe(true);
  });

  it('--factor-param renames the column after the parameter: rsi_14.period=7 writes rsi_7, never rsi_14', async () => {
    const r = replay('rsi7.parquet', '--only', 'rsi_14', '--factor-param', 'rsi_14.period=7');
    expect(r.status, r.stderr).toBe(0);
    const t = await readFactorTable(join(dir, 'rsi7.parquet'));
    expect(Object.keys(t.values)).toEqual(['rsi_7']);
  });
});

describe('lockstep factors check', () => {
  it('passes a good module and a set file, one line per factor, and lists them with their code hash', () => {
    const r = cli('factors', 'check', MODULE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {2}spread_bps +v1 .* restored at \d+ cuts, code [0-9a-f]{16}$/m);
    expect(r.stdout).toMatch(/^ok {2}mid_change_20q /m);
    expect(r.stdout).toMatch(/2 factors of .*my-factors\.ts pass the contract/);
    const s = cli('factors', 'check', SET);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.match(/^ok {2}ma_\d+m /gm)).toHaveLength(5);
    const l = JSON.parse(cli('factors', 'list', '--factors', SET, '--json').stdout) as { factors: { name: string }[] };
    expect(l.factors.map((f) => f.name)).toContain('mid_change_100q');
  });

  it('refuses a factor that breaks the contract: exit 2, one line naming file, factor and check', () => {
    const counter = module('counter.ts', `let n = 0;\nexport default [${factor('counter', '() => ++n')}];`);
    expect(oneLine(cli('factors', 'check', counter))).toMatch(/counter\.ts: factor counter fails the contract \(determinism\): two runs differ/);
    const fn = module('fnstate.ts', `export default [${factor('fnstate', '(s) => (s.n = s.f(s.n))').replace('({ n: 0 })', '({ n: 0, f: (x) => x + 1 })')}];`);
    expect(oneLine(cli('factors', 'check', fn))).toMatch(/fnstate\.ts: factor fnstate fails the contract \(plain-data state\)/);
  });

  it('refuses a factor that reads a clock, randomness or I/O, statically and by running it with the clock moved', () => {
    const clock = module('clock.ts', `export default [${factor('age', '(_s, ev) => Date.now() - Number(ev.tsEvent / 1000000n)')}];`);
    expect(oneLine(cli('factors', 'check', clock))).toMatch(/clock\.ts: factor age uses Date \(wall clock\) in update/);
    const rnd = module('rnd.ts', `export default [${factor('noise', '() => Math.random()')}];`);
    expect(oneLine(replay('x.parquet', '--factors', rnd))).toMatch(/rnd\.ts: factor noise uses Math\.random \(unseeded randomness\) in update/);
    const captured = module('captured.ts', `const now = Date.now;\nexport default [${factor('hour', '() => Math.floor(now() / 3.6e6)')}];`);
    expect(oneLine(cli('factors', 'check', captured))).toMatch(/captured\.ts: line 2 uses Date \(wall clock\)/);
    const io = module('io.ts', `import { readFileSync } from 'node:fs';\nexport default [${factor('io', "() => readFileSync('/etc/hostname').length")}];`);
    expect(oneLine(cli('factors', 'check', io))).toMatch(/io\.ts: imports node:fs: a factor module may not do I\/O/);
    // hidden from the text: only the run with the clock moved catches it
    const hidden = module('hidden.ts', `export default [${factor('day', "() => Math.floor(Function.prototype.constructor('return Da' + 'te')().now() / 86400000)")}];`);
    expect(oneLine(cli('factors', 'check', hidden))).toMatch(/hidden\.ts: factor day fails the contract \(purity\): its values change when the wall clock and Math\.random change/);
  });

  it('bad files: one line naming the file (and field), exit 2', () => {
    writeFileSync(join(dir, 'syntax.ts'), 'this is not ( typescript\n');
    expect(oneLine(cli('factors', 'check', join(dir, 'syntax.ts')))).toMatch(/syntax\.ts: does not load: .*syntax\.ts:1/);
    expect(oneLine(cli('factors', 'check', module('none.ts', 'export const x = 1;')))).toMatch(/none\.ts: exports no factors \(x\)/);
    expect(oneLine(cli('factors', 'check', module('notf.ts', 'export default [1];')))).toMatch(/notf\.ts: default export item 0 is not a factor/);
    expect(oneLine(cli('factors', 'check', join(dir, 'missing.ts')))).toMatch(/missing\.ts: no such file/);
    const dup = module('dup.ts', `export default [${factor('mid', '() => 1')}];`);
    expect(oneLine(replay('x.parquet', '--factors', dup))).toMatch(/dup\.ts: its factor mid writes column mid, which the default factor mid writes too/);
    const set = (name: string, doc: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(doc));
      return join(dir, name);
    };
    expect(oneLine(replay('x.parquet', '--factors', set('unknown.json', { factors: ['mid', 'ma_7'] })))).toMatch(/unknown\.json, field factors\[1\]: no such factor .*\(value "ma_7"\)/);
    expect(oneLine(replay('x.parquet', '--factors', set('twice.json', { factors: ['ma_5m', { factor: 'ma_20m', params: { bars: 5 } }] })))).toMatch(/twice\.json: factors\[1\] \(ma_5m\) writes column ma_5m, which factors\[0\] \(ma_5m\) writes too/);
    expect(oneLine(replay('x.parquet', '--factors', set('badparam.json', { factors: [{ factor: 'ma_5m', params: { bars: 0 } }] })))).toMatch(/badparam\.json, field factors\[0\]\.params\.bars: ma_5m must be >= 1 \(value 0\)/);
    expect(oneLine(replay('x.parquet', '--factors', set('badmod.json', { modules: ['./none.ts'], factors: ['mid'] })))).toMatch(/badmod\.json, field modules\[0\]: .*none\.ts: exports no factors/);
    // no partial output under the final name
    expect(existsSync(join(dir, 'x.parquet'))).toBe(false);
  });
});

describe('lockstep live and the deployment factor set', () => {
  let redis: RedisHarness;
  beforeAll(async () => {
    redis = await RedisHarness.start();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('a worker started with another set than the one in <ns>:meta is refused with one line', async () => {
    const r = await openRedis(redis.url);
    try {
      await r.hset(metaKey({ ns: 'uf', shards: 1 }), 'shards', '1', 'featureSetVersion', '0123456789abcdef', 'columns', 'last_price,mid');
    } finally {
      r.disconnect();
    }
    const line = oneLine(cli('live', '--redis', redis.url, '--ns', 'uf', '--shards', '1', '--factors', MODULE, '--exit-when-idle', '100'));
    expect(line).toMatch(/uf:meta says this deployment serves feature set 0123456789abcdef \(2 columns\), but this worker runs [0-9a-f]{16} \(\d+ columns; adds return_1m, .* and \d+ more\)/);
    expect(line).toMatch(/start it with the deployment's --factors, --only and --factor-param/);
  });

  it('parity run --factors SET: the replay and the live workers run the same set, certified bit for bit', () => {
    const cert = join(dir, 'cert.json');
    const r = cli('parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '13:00', '--to', '14:00', '--redis', redis.url, '--factors', SET, '--certificate', cert);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PARITY: [\d,]+ rows, 0 mismatched cells, 0 only in replay, 0 only in live; served latest values: 0 of 2 symbols differ$/m);
    const c = JSON.parse(readFileSync(cert, 'utf8')) as { code: { featureSetVersion: string; factors: { name: string }[] } };
    expect(c.code.factors.map((f) => f.name)).toEqual(['last_price', 'mid', 'ma_5m', 'ma_10m', 'ma_20m', 'ma_50m', 'ma_100m', 'spread_bps', 'mid_change_20q', 'mid_change_100q']);
    const listed = JSON.parse(cli('factors', 'list', '--factors', SET, '--json').stdout) as { featureSetVersion: string };
    expect(c.code.featureSetVersion).toBe(listed.featureSetVersion);
  });
});
