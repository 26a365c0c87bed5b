import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { defineFactor } from '../core/factor.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { heartbeats } from '../datasets/heartbeats.ts';
import { dateStartNs, writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { openEventSource, type OpenSource } from './event-source.ts';
import { readTrainingSet } from './table-io.ts';
import { buildTrainingSet, type TrainingSetOptions } from './training-set.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const S = 1_000_000_000n;
const DATES = ['2024-03-11', '2024-03-12', '2024-03-13'];

/**
 * A small three-day catalog: symbols A and B trade and quote in two clusters per day, 00:00-00:15
 * and 23:45-24:00 UTC (so label horizons and splits cross midnight), sequence numbers restarting
 * each day as in the synthetic generator; heartbeats every 10 s; one fundamental of A from before.
 */
function catalogRows(): CatalogRow[] {
  const rows: CatalogRow[] = [];
  let x = 7;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const date of DATES) {
    const day = dateStartNs(date);
    const seq = new Map<string, bigint>();
    const next = (k: string) => {
      const s = (seq.get(k) ?? 0n) + 1n;
      seq.set(k, s);
      return s;
    };
    for (const [from, to] of [[0n, 900n], [85_500n, 86_399n]]) {
      for (const symbol of ['A', 'B']) {
        let mid = symbol === 'A' ? 100 : 50;
        for (let t = day + from * S + (symbol === 'A' ? 0n : 700_000_000n); t < day + to * S; t += BigInt(1 + Math.floor(rnd() * 4)) * S + BigInt(Math.floor(rnd() * 1e6))) {
          mid = Math.round((mid + (rnd() - 0.5) * 0.2) * 100) / 100;
          if (rnd() < 0.5) rows.push({ kind: 'quote', tsEvent: t, tsRecv: t + 1000n, symbol, seq: next(`q${symbol}`), bidPx: mid - 0.01, bidSz: 3, askPx: mid + 0.01, askSz: 4 });
          else rows.push({ kind: 'trade', tsEvent: t, tsRecv: t + 1000n, symbol, seq: next(`t${symbol}`), price: mid, size: 1 + Math.floor(rnd() * 5), side: rnd() < 0.5 ? 1 : -1 });
        }
      }
      rows.push(...heartbeats(day + from * S, day + to * S, 10n * S));
    }
  }
  const pre = dateStartNs('2024-03-01') + 3600n * S;
  rows.push({ kind: 'fundamental', tsEvent: pre, tsRecv: pre, symbol: 'A', seq: 1n, fiscalYear: 2023, fiscalPeriod: 'Q4', eps: 1.5, epsTtm: 5.5, bookValuePerShare: 20, sharesOutstanding: 1e9 });
  return rows;
}

let dir = '';
let catalog = '';
let rows: CatalogRow[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-ts-'));
  catalog = join(dir, 'cat');
  rows = catalogRows();
  writeCatalog(catalog, rows);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'training-set', '--catalog', catalog, ...args], { encoding: 'utf8', cwd: ROOT });
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const BASE = ['--dates', '2024-03-11..2024-03-13', '--sample', 'every:30s', '--labels', 'fwd_return:1m,fwd_vol:1m'];

describe('lockstep training-set on a three-day catalog', () => {
  it('gives the same bytes with --jobs 1 and 2, and from partitions 0/2 + 1/2 assembled; the manifest lists the parts', () => {
    const one = cli(...BASE, '--out', join(dir, 'j1.parquet'));
    expect(one.stderr).toBe('');
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/part 2024-03-12: [\d,]+ rows sha256:/);
    const two = cli(...BASE, '--jobs', '2', '--out', join(dir, 'j2.parquet'));
    expect(two.status, two.stderr).toBe(0);
    for (const i of [0, 1]) expect(cli(...BASE, '--partition', `${i}/2`, '--out', join(dir, 'p.parquet')).status).toBe(0);
    expect(existsSync(join(dir, 'p.parquet'))).toBe(false);
    const asm = cli(...BASE, '--assemble', '--out', join(dir, 'p.parquet'));
    expect(asm.status, asm.stderr).toBe(0);
    expect(sha(join(dir, 'j2.parquet'))).toBe(sha(join(dir, 'j1.parquet')));
    expect(sha(join(dir, 'p.parquet'))).toBe(sha(join(dir, 'j1.parquet')));
    const manifest = JSON.parse(readFileSync(join(dir, 'j1.parquet.manifest.json'), 'utf8'));
    expect(manifest.parts.map((p: { date: string }) => p.date)).toEqual(DATES);
    for (const p of manifest.parts) expect(p.sha256).toBe(sha(join(dir, 'j1.parquet.parts', p.file)));
    expect(manifest.outputs[0].sha256).toBe(sha(join(dir, 'j1.parquet')));
    expect(manifest.parameters.labels).toEqual(['fwd_ret_mid_1m', 'fwd_ret_last_1m', 'fwd_vol_mid_1m']);
    // assembling parts built with other parameters is refused
    const other = cli('--dates', '2024-03-11..2024-03-13', '--sample', 'every:1m', '--labels', 'fwd_return:1m,fwd_vol:1m', '--assemble', '--out', join(dir, 'p.parquet'));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/built with other parameters/);
  });

  it('records the lineage of its features (the files read, the factor code) and runs your own factors', async () => {
    const t = await readTrainingSet(join(dir, 'j1.parquet'));
    const lineage = t.metadata.lineage as { featureSetVersion: string; inputs: { path: string; sha256: string }[]; factors: { name: string }[] };
    expect(lineage.featureSetVersion).toBe(t.metadata.featureSetVersion);
    expect(lineage.factors.map((f) => f.name)).toEqual(DEFAULT_FACTORS.map((f) => f.name));
    // every file of the three dates, with its real content hash, and the earlier fundamental
    const paths = lineage.inputs.map((i) => i.path);
    expect(paths.some((p) => p.startsWith('fundamental/2024-03-01'))).toBe(true);
    for (const d of DATES) expect(paths.some((p) => p.includes(`/${d}`) && p.startsWith('trade/'))).toBe(true);
    for (const i of lineage.inputs) expect(i.sha256).toBe(sha(join(catalog, i.path)));
    // a model trained on it can be served by a replay of the same set: `lockstep lineage A --against B`
    const replay = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', catalog, '--date', '2024-03-12', '--out', join(dir, 'r.parquet')], { encoding: 'utf8' });
    expect(replay.status, replay.stderr).toBe(0);
    const check = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'lineage', join(dir, 'j1.parquet'), '--against', join(dir, 'r.parquet')], { encoding: 'utf8' });
    expect(check.stdout).toMatch(/SERVABLE/);
    expect(check.stdout).not.toMatch(/NOT SERVABLE/);
    // --factors: the user's module joins the set, its columns are features, and the lineage says so
    const own = cli('--date', '2024-03-12', '--sample', 'every:5m', '--factors', join(ROOT, 'examples/my-factors.ts'), '--features', 'mid,spread_bps', '--out', join(dir, 'own.parquet'));
    expect(own.status, own.stderr).toBe(0);
    const o = await readTrainingSet(join(dir, 'own.parquet'));
    expect(o.columns).toContain('spread_bps');
    expect(o.rows.some((r) => typeof r.spread_bps === 'number')).toBe(true);
    expect((o.metadata.lineage as { factors: { name: string }[] }).factors.map((f) => f.name)).toContain('spread_bps');
    expect(o.metadata.featureSetVersion).not.toBe(t.metadata.featureSetVersion);
    const against = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'lineage', join(dir, 'own.parquet'), '--against', join(dir, 'r.parquet')], { encoding: 'utf8' });
    expect(against.stdout).toMatch(/NOT SERVABLE/);
    expect(against.stdout).toMatch(/spread_bps/);
  });

  it('carries each symbol across dates (warm-up) and applies the new date\'s events (sequence numbers restart)', async () => {
    const t = await readTrainingSet(join(dir, 'j1.parquet'));
    expect(t.metadata.featureSetVersion).toMatch(/^[0-9a-f]{16}$/);
    const at = (date: string, sec: bigint) => t.rows.find((r) => r.symbol === 'A' && r.ts === dateStartNs(date) + sec * S)!;
    for (const date of DATES.slice(1)) {
      // the first sample of the day: last_price is the previous day's last trade (warm)
      const first = at(date, 0n);
      const prevTrade = rows.filter((r) => r.kind === 'trade' && r.symbol === 'A' && r.tsRecv <= dateStartNs(date)).at(-1) as CatalogRow & { price: number };
      expect(first.last_price).toBe(prevTrade.price);
      // ten minutes in: the day's own last trade before then
      const mid = at(date, 600n);
      const want = rows.filter((r) => r.kind === 'trade' && r.symbol === 'A' && r.tsRecv <= (mid.ts as bigint)).at(-1) as CatalogRow & { price: number; seq: bigint };
      expect(mid.last_price).toBe(want.price);
    }
    const cold = cli('--date', '2024-03-12', '--sample', 'every:30s', '--warmup', '0', '--out', join(dir, 'cold.parquet'));
    expect(cold.status, cold.stderr).toBe(0);
    const c = await readTrainingSet(join(dir, 'cold.parquet'));
    expect(c.rows.find((r) => r.symbol === 'A' && r.ts === dateStartNs('2024-03-12'))!.last_price).toBeNull();
  });

  it('labels near midnight read the next selected date; the last date\'s are null past its data', async () => {
    const t = await readTrainingSet(join(dir, 'j1.parquet'));
    const late = (date: string) => t.rows.filter((r) => r.symbol === 'A' && r.ts === dateStartNs(date) + 86_370n * S)[0];
    expect(late('2024-03-11').fwd_ret_mid_1m).not.toBeNull();
    expect(late('2024-03-13').fwd_ret_mid_1m).toBeNull();
    // the gap 00:15 - 23:45 is a halt: a label whose horizon runs into it is null
    const beforeHalt = t.rows.find((r) => r.symbol === 'A' && r.ts === dateStartNs('2024-03-11') + 870n * S)!;
    expect(beforeHalt.fwd_ret_mid_1m).toBeNull();
  });

  it('splits with purging and an embargo, as a column and as files', async () => {
    const split = 'train:2024-03-11,valid:2024-03-12,test:2024-03-13';
    const r = cli(...BASE, '--split', split, '--embargo', '10m', '--split-files', '--out', join(dir, 's.parquet'));
    expect(r.status, r.stderr).toBe(0);
    const all = (await readTrainingSet(join(dir, 'j1.parquet'))).rows;
    const parts = Object.fromEntries(await Promise.all(['train', 'valid', 'test'].map(async (n) => [n, (await readTrainingSet(join(dir, `s.${n}.parquet`))).rows] as const)));
    const splitOf = (ts: bigint) => {
      const d = new Date(Number(ts / 1_000_000n)).toISOString().slice(0, 10);
      const i = DATES.indexOf(d);
      const start = dateStartNs(d);
      if (i > 0 && ts < start + 600n * S) return 'embargoed';
      if (i < 2 && ts + 60n * S >= dateStartNs(DATES[i + 1])) return 'purged';
      return ['train', 'valid', 'test'][i];
    };
    for (const n of ['train', 'valid', 'test']) {
      const want = all.filter((x) => splitOf(x.ts as bigint) === n);
      expect(parts[n].map((x) => `${x.symbol}${x.ts}`)).toEqual(want.map((x) => `${x.symbol}${x.ts}`));
      expect(parts[n].every((x) => x.split === n)).toBe(true);
    }
    expect(all.some((x) => splitOf(x.ts as bigint) === 'purged')).toBe(true);
    expect(all.some((x) => splitOf(x.ts as bigint) === 'embargoed')).toBe(true);
  });

  it('entities: the user\'s rows in their order, exact to the nanosecond, as the sampled build has them', async () => {
    const d = dateStartNs('2024-03-12');
    const file = join(dir, 'orders.csv');
    // ISO with 9 digits, int64 ns, and an offset; out of time order and across dates
    writeFileSync(file, ['symbol,timestamp', 'B,2024-03-12T00:05:00.000000000Z', `A,${d + 300n * S}`, 'A,2024-03-11T20:00:30-04:00', 'A,2024-03-12T00:05:00.000000001Z'].join('\n'));
    const r = cli('--dates', '2024-03-11..2024-03-13', '--sample', `entities:${file}`, '--labels', 'fwd_return:1m', '--out', join(dir, 'e.parquet'));
    expect(r.status, r.stderr).toBe(0);
    const e = (await readTrainingSet(join(dir, 'e.parquet'))).rows;
    expect(e.map((x) => [x.entity_row, x.symbol, x.ts])).toEqual([
      [0n, 'B', d + 300n * S],
      [1n, 'A', d + 300n * S],
      [2n, 'A', d + 30n * S],
      [3n, 'A', d + 300n * S + 1n],
    ]);
    const all = (await readTrainingSet(join(dir, 'j1.parquet'))).rows;
    const same = (sym: string, ts: bigint) => all.find((x) => x.symbol === sym && x.ts === ts)!;
    for (const x of e.slice(0, 3)) {
      const y = same(x.symbol as string, x.ts as bigint);
      for (const k of Object.keys(x)) if (k !== 'entity_row') expect([k, x[k]]).toEqual([k, y[k]]);
    }
  });

  it('refuses a bad entity file with one line naming file, row, field and value, and writes nothing', () => {
    const cases: [string, RegExp][] = [
      ['symbol,time\nA,1\n', /no timestamp column/],
      ['symbol,timestamp\nA,2024-03-12T00:00:00Z\nA,yesterday\n', /line 3, field timestamp: not a timestamp.*\(value "yesterday"\)/],
      ['symbol,timestamp\nA,2024-03-20T00:00:00Z\n', /field timestamp: outside the dates of the build/],
    ];
    for (const [text, msg] of cases) {
      const file = join(dir, 'bad.csv');
      writeFileSync(file, text);
      const out = join(dir, 'bad.parquet');
      const r = cli('--dates', '2024-03-11..2024-03-13', '--sample', `entities:${file}`, '--out', out);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('refuses unknown features, bad horizons and missing dates in one line (exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [['--features', 'mid,nope'], /--features: unknown feature nope; features are last_price, return_1m/],
      [['--labels', 'fwd_return:5x'], /--labels fwd_return: "5x" is not a duration/],
      [['--labels', 'fwd_drift:5m'], /unknown label "fwd_drift:5m"/],
      [['--sample', 'every:soon'], /--sample every: "soon" is not a duration/],
    ];
    for (const [args, msg] of cases) {
      const r = cli('--date', '2024-03-12', ...(args.includes('--sample') ? [] : ['--sample', 'every:1m']), ...args, '--out', join(dir, 'u.parquet'));
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    const missing = cli('--date', '2024-03-14', '--sample', 'every:1m', '--out', join(dir, 'u.parquet'));
    expect(missing.stderr).toMatch(/no market data for 2024-03-14; dates present: 2024-03-11, 2024-03-12, 2024-03-13/);
  });
});

describe('the leakage check', () => {
  const opts = (out: string): TrainingSetOptions => ({ catalog, dates: ['2024-03-12'], range: false, sample: { kind: 'every', stepNs: 30n * S }, labels: '', haltGapNs: 300n * S, checkLeakage: true, out: join(dir, out) });

  it('passes the default factor set', async () => {
    const r = await buildTrainingSet(opts('leak-ok.parquet'));
    expect(r.parts[0].leakage!.compared).toBeGreaterThan(50);
  });

  it('catches a factor that reads ahead through a buffer filled from the source before the fold', async () => {
    // the side channel: every event the source will deliver, read before the fold sees any
    const future: MarketEvent[] = [];
    const make = (update: (ev: MarketEvent) => number | null) => defineFactor({
      name: 'peek_next_trade',
      version: 1,
      description: 'the price of the next trade, 30 s ahead (a bug: reads the future)',
      params: {},
      rules: {},
      inputs: ['trade', 'quote'],
      warmup: 'none',
      init: () => null,
      update: (_s, ev) => update(ev),
    });
    const peek = make((ev) => {
      const n = future.find((f) => f.kind === 'trade' && f.symbol === ev.symbol && f.tsRecv > ev.tsRecv + 30n * S);
      return n && n.kind === 'trade' ? n.price : null;
    });
    const readAhead: OpenSource = async (spec) => {
      const inner = await openEventSource(spec);
      future.length = 0;
      for (let ev = inner.next(); ev !== null; ev = inner.next()) future.push(ev);
      await inner.close();
      let i = 0;
      return { next: () => future[i++] ?? null, close: async () => {} };
    };
    const err = await buildTrainingSet(opts('leak-bad.parquet'), { factors: [...DEFAULT_FACTORS, peek], openSource: readAhead }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('LeakageError');
    expect((err as Error).message).toMatch(/leakage check: feature peek_next_trade of A at 2024-03-12T\S+ \(\d+ ns\) is [\d.]+ with the real data but [\d.]+ when only events received after 2024-03-12T\S+ were altered/);
    // the same factor without the side channel's future (a plain source) passes: the check is about the data, not the name
    const clean = make(() => null);
    await expect(buildTrainingSet(opts('leak-clean.parquet'), { factors: [...DEFAULT_FACTORS, clean] })).resolves.toBeTruthy();
  });
});
