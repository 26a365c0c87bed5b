/**
 * `lockstep execute --latency-file`: recorded order latencies read (latency-file.ts) and used by the
 * simulator replay. A table of one constant 1 ms row gives exactly what `--latency-ms 1` gives (the
 * same orders, fills and TCA: the table path and the constant path agree); a varying table changes
 * the fills' times and is deterministic; a bad file is one line naming file, row, field and value
 * (exit 2 through the CLI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateStartNs } from '../../replay/catalog.ts';
import { readLatencyFile } from './latency-file.ts';
import { runExecute, type ExecuteOptions } from './run-execute.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const DATE = '2024-03-15';
const MS = 1_000_000n;
let dir = '';
let cat = '';
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-latency-'));
  cat = join(dir, 'cat');
  const r = cli('datasets', 'generate', '--date', DATE, '--symbols', '1', '--out', cat);
  expect(r.status, r.stderr).toBe(0);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const BASE: ExecuteOptions = { catalog: '', date: DATE, symbol: 'SYM000', algo: 'twap', side: 1, qty: 500, from: '14:00', to: '14:20', minChild: 10, urgency: 0.5 };
const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
const show = (r: Awaited<ReturnType<typeof runExecute>>) => JSON.stringify({ actions: r.actions, fills: r.fills, tca: r.tca }, big);

describe('--latency-file', () => {
  it('reads the table: columns by name, any order, other columns ignored', () => {
    const lat = readLatencyFile(file('ok.csv', 'exch_ts,note,req_ts,resp_ts\n1100,a,1000,1150\n2300,b,2000,2500\n'), 5n);
    expect([lat.feedNs, lat.entryNs, lat.responseNs, lat.maxEntryNs, lat.maxResponseNs]).toEqual([5n, 100n, 50n, 300n, 200n]);
    expect([...lat.table!.req]).toEqual([1000n, 2000n]);
  });

  it('one constant 1 ms row gives what --latency-ms 1 gives; a varying table moves the fills, the same way twice', async () => {
    const day = dateStartNs(DATE);
    const flat = file('flat.csv', `req_ts,exch_ts,resp_ts\n${day},${day + MS},${day + 2n * MS}\n`);
    const a = await runExecute({ ...BASE, catalog: cat, latencyMs: 1 });
    const b = await runExecute({ ...BASE, catalog: cat, latencyMs: 1, latencyFile: flat });
    expect(a.fills.length).toBeGreaterThan(5);
    expect(show(b)).toBe(show(a));
    // entry 1 ms at 14:00 rising to 50 ms at 14:20, response 1 → 20 ms
    const t0 = day + 14n * 3600n * 1_000_000_000n;
    const t1 = t0 + 1200n * 1_000_000_000n;
    const vary = file('vary.csv', `req_ts,exch_ts,resp_ts\n${t0},${t0 + MS},${t0 + 2n * MS}\n${t1},${t1 + 50n * MS},${t1 + 70n * MS}\n`);
    const c = await runExecute({ ...BASE, catalog: cat, latencyMs: 1, latencyFile: vary });
    const d = await runExecute({ ...BASE, catalog: cat, latencyMs: 1, latencyFile: vary });
    expect(show(d)).toBe(show(c));
    expect(show(c)).not.toBe(show(a));
    // every fill reaches the algorithm at least the table's response after the exchange made it
    const late = c.fills.filter((f) => f.tsEvent > t0 + 60n * 1_000_000_000n);
    expect(late.length).toBeGreaterThan(0);
    for (const f of late) expect(f.tsRecv - f.tsEvent).toBeGreaterThan(MS);
  }, 120_000);

  it('refuses a bad file in one line naming file, row, field and value (exit 2)', () => {
    const cases: [string, string][] = [
      ['req_ts,exch_ts\n1,2\n', 'row 1, field resp_ts: the header has no resp_ts column'],
      ['req_ts,exch_ts,resp_ts\n1000,1100,1200\n2000,x,2200\n', 'row 3, field exch_ts: must be an integer number of epoch nanoseconds (value "x")'],
      ['req_ts,exch_ts,resp_ts\n1000,900,1200\n', 'row 2, field exch_ts: is before its req_ts 1000 (rejections are not modelled) (value "900")'],
      ['req_ts,exch_ts,resp_ts\n', 'has a header but no row'],
    ];
    for (const [i, [text, want]] of cases.entries()) {
      const p = file(`bad${i}.csv`, text);
      const r = cli('execute', '--catalog', cat, '--date', DATE, '--algo', 'twap', '--symbol', 'SYM000', '--side', 'buy', '--qty', '10', '--from', '14:00', '--to', '14:05', '--latency-file', p);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`--latency-file ${p}`)]);
      expect(r.stderr).toContain(want);
    }
  }, 120_000);
});
