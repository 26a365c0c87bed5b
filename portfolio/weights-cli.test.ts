/**
 * `lockstep weights` through the real CLI on a small generated day: datasets generate → replay →
 * weights. The file holds one row per (rebalance, symbol), within the caps, dollar-neutral, within
 * the turnover limit, equal bit for bit to the fold run in-process, the same bytes on a rerun; bad
 * configs and missing columns are one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWeightsConfig } from './config.ts';
import { foldTable, readWeightsFile } from './replay-weights.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const DATE = '2024-03-15';
const CONFIG = {
  signal: 'return_1m',
  method: 'zscore',
  construction: 'dollar-neutral',
  max_weight: 0.4,
  gross_leverage: 1,
  vol: { column: 'rv_5m', inverse: true },
  turnover_limit: 0.5,
  rebalance: 'every:5m',
  session: 'us-equity',
  stale_after: '2m',
};

let dir = '';
let table = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weights-cli-'));
  table = join(dir, 'out.parquet');
  for (const args of [
    ['datasets', 'generate', '--date', DATE, '--symbols', '4', '--out', join(dir, 'cat')],
    ['replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--out', table],
  ]) {
    const r = cli(...args);
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  }
  writeFileSync(join(dir, 'w.json'), JSON.stringify(CONFIG));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readWeights = readWeightsFile;

describe('lockstep weights (replay)', () => {
  it('writes every 5-minute rebalance of the session, within the caps, equal to the fold in-process, byte-identical on a rerun', async () => {
    const out = join(dir, 'w.parquet');
    const r = cli('weights', '--input', table, '--config', join(dir, 'w.json'), '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const head = r.stdout.split('\n')[0];
    expect(head).toMatch(/^weights: 78 rebalances of 4 symbols \(312 rows\) 2024-03-15T13:35:00\.000000000Z \.\. 2024-03-15T20:00:00\.000000000Z -> .*w\.parquet sha256:[0-9a-f]{16}$/);
    const rows = await readWeights(out);
    expect(rows.length).toBe(312);
    const byT = new Map<bigint, typeof rows>();
    for (const x of rows) byT.set(x.ts, [...(byT.get(x.ts) ?? []), x]);
    let prev = new Map<string, number>();
    for (const book of byT.values()) {
      let net = 0;
      let gross = 0;
      let turnover = 0;
      for (const x of book) {
        expect(Math.abs(x.weight)).toBeLessThanOrEqual(0.4 * (1 + 1e-12));
        net += x.weight;
        gross += Math.abs(x.weight);
        turnover += Math.abs(x.weight - (prev.get(x.symbol) ?? 0));
      }
      expect(Math.abs(net)).toBeLessThan(1e-12);
      expect(gross).toBeLessThanOrEqual(1 + 1e-12);
      expect(turnover).toBeLessThanOrEqual(0.5 * (1 + 1e-9));
      prev = new Map(book.map((x) => [x.symbol, x.weight]));
    }
    // the same records as the fold run here, bit for bit
    const recs = await foldTable(table, parseWeightsConfig(JSON.stringify(CONFIG), 'w.json'));
    expect(rows.map((x) => x.weight)).toEqual(recs.flatMap((rec) => [...rec.weights]));
    const again = cli('weights', '--input', table, '--config', join(dir, 'w.json'), '--out', join(dir, 'w2.parquet'));
    expect(again.stdout.split('\n')[0].split('sha256:')[1]).toBe(head.split('sha256:')[1]);
  });

  it('rebalances on demand at the --at times (request events)', async () => {
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ ...CONFIG, rebalance: 'on-demand' }));
    const out = join(dir, 'd.parquet');
    const r = cli('weights', '--input', table, '--config', join(dir, 'd.json'), '--out', out, '--at', '2024-03-15T14:02:30Z,2024-03-15T15:00:00.5Z');
    expect(r.stderr).toBe('');
    const rows = await readWeights(out);
    expect([...new Set(rows.map((x) => `${x.ts}:${x.trigger}`))]).toEqual(['1710511350000000000:request', '1710514800500000000:request']);
  });

  it('a bad config or a column the table lacks: one line naming the file and field, exit 2', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...CONFIG, construction: 'long-short' }));
    const bad = cli('weights', '--input', table, '--config', join(dir, 'bad.json'), '--out', join(dir, 'x.parquet'));
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(`lockstep: ${join(dir, 'bad.json')}, field construction: must be one of long-only, dollar-neutral (value "long-short")`);
    writeFileSync(join(dir, 'col.json'), JSON.stringify({ ...CONFIG, signal: 'momo_score' }));
    const col = cli('weights', '--input', table, '--config', join(dir, 'col.json'), '--out', join(dir, 'x.parquet'));
    expect(col.status).toBe(2);
    expect(col.stderr.trim().split('\n')).toHaveLength(1);
    expect(col.stderr).toContain(`lockstep: ${table}, field momo_score: no such column in the table`);
    // an inputs file (a live driver's control log) with a damaged line: its file and row
    writeFileSync(join(dir, 'in.jsonl'), '{"id":"1-0","fields":{"kind":"request","ts":"1710511350000000000","id":"1-0"}}\n{"id":"2-0","fields":{"kind":"kill","mode":"on","symbol":"A","ts":"1"}}\n');
    const inputs = cli('weights', '--input', table, '--config', join(dir, 'w.json'), '--out', join(dir, 'x.parquet'), '--inputs', join(dir, 'in.jsonl'));
    expect(inputs.status).toBe(2);
    expect(inputs.stderr.trim()).toBe(`lockstep: ${join(dir, 'in.jsonl')}, row 2: mode "on": must be off, reduce-only or halt`);
    const req = cli('weights', '--request', '--at', '1', '--input', table);
    expect(req.status).toBe(2);
    expect(req.stderr.trim()).toBe('lockstep: --request posts to a live deployment: give --redis URL (and --ns)');
  });
});
