/**
 * `lockstep execute` through the real CLI: on a small generated catalog (three dates, so VWAP has
 * two earlier days for its curve), its refusals of bad input (one line, exit 2), its determinism
 * (the same orders file twice), and on the real LOBSTER AAPL day (skipped with a message when the
 * real data is not there: testing/real-data.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLobster } from '../../datasets/import-lobster.ts';
import { UserError } from '../../core/errors.ts';
import { dateStartNs } from '../../replay/catalog.ts';
import { realData } from '../../testing/real-data.ts';
import type { Fill } from '../types.ts';
import { runExecute } from './run-execute.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const LOBSTER = realData('lockstep execute on the real LOBSTER AAPL day', 'equity_lobster/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip');

let dir: string;
let cat: string;

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-execute-'));
  cat = join(dir, 'cat');
  for (const d of ['2024-03-13', '2024-03-14', '2024-03-15']) {
    const r = cli('datasets', 'generate', '--date', d, '--symbols', '2', '--out', cat);
    expect(r.code, r.err).toBe(0);
  }
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const BASE = ['execute', '--date', '2024-03-15', '--symbol', 'SYM000', '--side', 'buy', '--qty', '500', '--from', '14:00', '--to', '14:30'];

interface Line {
  type: 'new' | 'cancel' | 'fill';
  id?: string;
  orderId?: string;
  qty?: number;
  limitPx?: number | null;
  price?: number;
}
const readLines = (p: string): Line[] => readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

describe('lockstep execute on a generated catalog', () => {
  it('twap: a TCA report, child orders and fills that add up, the same bytes twice', () => {
    const o1 = join(dir, 'twap1.jsonl');
    const o2 = join(dir, 'twap2.jsonl');
    const r = cli(...BASE, '--catalog', cat, '--algo', 'twap', '--min-child', '10', '--orders', o1, '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.childOrders).toBeGreaterThanOrEqual(3);
    expect(j.filledQty).toBeGreaterThan(0);
    expect(j.filledQty).toBeLessThanOrEqual(500);
    expect(j.arrivalPrice).toBeGreaterThan(0);
    expect(j.shortfall.total).toBeCloseTo(j.shortfall.delay + j.shortfall.trading + j.shortfall.opportunity + j.shortfall.fees, 6);
    const lines = readLines(o1);
    const news = lines.filter((l) => l.type === 'new');
    const fills = lines.filter((l) => l.type === 'fill');
    expect(news.length).toBe(j.childOrders);
    expect(fills.reduce((a, f) => a + f.qty!, 0)).toBe(j.filledQty);
    // every child is at least --min-child, but the parent's last remainder
    expect(news.slice(0, -1).every((n) => n.qty! >= 10)).toBe(true);
    expect(news.map((n) => n.id)).toEqual(news.map((_n, i) => `SYM000-twap-${i + 1}`));
    expect(cli(...BASE, '--catalog', cat, '--algo', 'twap', '--min-child', '10', '--orders', o2, '--json').code).toBe(0);
    expect(readFileSync(o2, 'utf8')).toBe(readFileSync(o1, 'utf8'));
  });

  it('vwap takes its curve from the two earlier dates; the text report names the shortfall parts', () => {
    const r = cli(...BASE, '--catalog', cat, '--algo', 'vwap');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/volume curve from 2 earlier date\(s\): 2024-03-13, 2024-03-14/);
    expect(r.out).toMatch(/implementation shortfall .*delay .*trading .*opportunity/);
    expect(r.out).toMatch(/slippage \(bps, \+ = better\): vs arrival/);
  });

  it('pov with a limit (in process): no buy child above the limit', async () => {
    const opts = { catalog: cat, date: '2024-03-15', symbol: 'SYM000', algo: 'pov' as const, side: 1 as const, qty: 500, from: '14:00', to: '14:30', pov: 0.2 };
    const probe = await runExecute(opts);
    const limitTicks = Math.round(probe.tca.arrivalPrice! / 0.01);
    const r = await runExecute({ ...opts, limit: limitTicks / 100 });
    const news = r.actions.flatMap((a) => (a.type === 'new' ? [a.order] : []));
    expect(news.length).toBeGreaterThan(0);
    expect(news.every((n) => n.limitPx! <= limitTicks)).toBe(true);
    expect(r.fills.every((f) => f.price <= limitTicks)).toBe(true);
  });

  it('a window outside the data: one line naming the window and the span, exit 2', () => {
    const r = cli(...BASE.map((a) => (a === '14:00' ? '03:00' : a === '14:30' ? '04:00' : a)), '--catalog', cat, '--algo', 'twap');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^lockstep: asked to trade outside the data: window 2024-03-15 03:00-04:00 UTC, but SYM000's events on 2024-03-15 span 13:30:00-19:59:58 UTC$/m);
  });

  it.each([
    [{ qty: 0 }, /--qty 0: must be a whole number of lots > 0/],
    [{ qty: -3 }, /--qty -3/],
    [{ symbol: 'NOPE' }, /--symbol NOPE: not in the catalog .* symbols present: SYM000, SYM001/],
    [{ from: '14:30', to: '14:00' }, /--from 14:30 is not before --to 14:00/],
    [{ from: '14:00', to: '14:00' }, /--from 14:00 is not before --to 14:00/],
    [{ from: '19:00', to: '21:00' }, /asked to trade outside the data: window 2024-03-15 19:00-21:00 UTC/],
    [{ from: '14:00', to: '14:30', limit: 100.005 }, /--limit 100.005: not on the tick grid of 0.01/],
    [{ takerBps: Infinity }, /^--taker-bps Infinity: must be a finite number of basis points/],
    [{ startPosition: -2.5 }, /^--start-position -2.5: must be a whole \(signed\) number of lots$/],
    [{ repegTicks: -1 }, /^--repeg-ticks -1: must be a whole number of ticks ≥ 0$/],
    [{ minRestMs: -5 }, /^--min-rest-ms -5: must be a number of milliseconds ≥ 0$/],
    [{ instrument: { tick: 0 } }, /^--tick 0: must be a number > 0$/],
    [{ instrument: { lot: -1 } }, /^--lot -1: must be a number > 0$/],
  ])('refuses %j with a UserError (in process)', async (over, re) => {
    const err = await runExecute({ catalog: cat, date: '2024-03-15', symbol: 'SYM000', algo: 'twap', side: 1, qty: 100, from: '14:00', to: '14:30', ...over }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(re);
  });

  it.each([
    [['--maker-bps', 'abc'], /^lockstep: --maker-bps abc: must be a number$/m],
    [['--start-position', '1.5'], /^lockstep: --start-position 1.5: must be a whole \(signed\) number of lots$/m],
    [['--instruments', '/nonexistent/instruments.json'], /^lockstep: --instruments \/nonexistent\/instruments.json: cannot read \(ENOENT\)$/m],
  ])('refuses %j through the CLI: one line naming the flag and value, exit 2', (extra, re) => {
    const r = cli(...BASE, '--catalog', cat, '--algo', 'twap', ...extra);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(re);
  });

  it('an instruments file: a bad field, a symbol it lacks, and its fee grid with maker/taker fees', async () => {
    const bad = join(dir, 'bad-instruments.json');
    writeFileSync(bad, JSON.stringify({ instruments: { SYM000: { tick: -1, lot: 1 } } }));
    const r = cli(...BASE, '--catalog', cat, '--algo', 'twap', '--instruments', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^lockstep: --instruments .*bad-instruments.json, field instruments.SYM000.tick: must be a number > 0 \(value -1\)$/m);
    const other = join(dir, 'other-instruments.json');
    writeFileSync(other, JSON.stringify({ instruments: { SYM001: { tick: 0.01, lot: 1 } } }));
    expect(cli(...BASE, '--catalog', cat, '--algo', 'twap', '--instruments', other).err).toMatch(/--instruments .*other-instruments.json: no instrument for SYM000 and no "default"/);
    // fees: a maker rebate and a taker fee on the file's cent grid; the shortfall's fee part is theirs
    const ok = join(dir, 'instruments.json');
    writeFileSync(ok, JSON.stringify({ instruments: { SYM000: { tick: 0.01, lot: 1 } }, fee_grid: 0.01 }));
    const opts = { catalog: cat, date: '2024-03-15', symbol: 'SYM000', algo: 'twap' as const, side: 1 as const, qty: 500, from: '14:00', to: '14:30', minChild: 10, urgency: 0.95, instrumentsFile: ok };
    const free = await runExecute(opts);
    const paid = await runExecute({ ...opts, makerBps: -1, takerBps: 5 });
    expect(free.tca.shortfall!.fees).toBe(0);
    const notional = (liq: (f: Fill) => boolean) => paid.fills.filter(liq).reduce((a, f) => a + f.price * 0.01 * f.qty, 0);
    expect(paid.fills.length).toBe(free.fills.length);
    const fee = paid.fills.reduce((a, f) => a + f.fee, 0) * 0.01;
    expect(paid.tca.shortfall!.fees).toBeCloseTo(fee, 6);
    expect(fee).not.toBe(0);
    // every fill's fee is its notional × its bps, rounded to the cent
    expect(Math.abs(fee - (notional((f) => f.fee < 0) * -1e-4 + notional((f) => f.fee > 0) * 5e-4))).toBeLessThan(0.01 * paid.fills.length);
  });

  it('--start-position: a reduce-only kill from a short buys back no more than the short', async () => {
    const at = dateStartNs('2024-03-15') + 14n * 60n * 60_000_000_000n;
    const opts = { catalog: cat, date: '2024-03-15', symbol: 'SYM000', algo: 'twap' as const, side: 1 as const, qty: 500, from: '14:00', to: '14:30', minChild: 10, kills: [{ symbol: 'SYM000', mode: 'reduce-only' as const, reason: 'r', ts: at }] };
    const flat = await runExecute(opts);
    expect(flat.fills.length).toBe(0);
    const short = await runExecute({ ...opts, startPosition: -40 });
    const bought = short.fills.reduce((a, f) => a + f.qty, 0);
    expect(bought).toBeGreaterThan(0);
    expect(bought).toBeLessThanOrEqual(40);
  });

  it('a kill switch halt at 14:10 cancels every working child then and no child follows', async () => {
    const halt = dateStartNs('2024-03-15') + (14n * 60n + 10n) * 60_000_000_000n;
    const opts = { catalog: cat, date: '2024-03-15', symbol: 'SYM000', algo: 'twap' as const, side: 1 as const, qty: 500, from: '14:00', to: '14:30', minChild: 10 };
    const free = await runExecute(opts);
    const r = await runExecute({ ...opts, kills: [{ symbol: 'SYM000', mode: 'halt', reason: 'test', ts: halt }] });
    const news = r.actions.flatMap((a) => (a.type === 'new' ? [a.order] : []));
    expect(news.length).toBeGreaterThan(0);
    expect(news.every((n) => n.ts < halt)).toBe(true);
    expect(free.actions.some((a) => a.type === 'new' && a.order.ts > halt)).toBe(true);
    const atHalt = r.actions.flatMap((a) => (a.type === 'cancel' && a.cancel.ts === halt ? [a.cancel] : []));
    expect(atHalt.length).toBeGreaterThan(0);
    expect(atHalt.every((c) => c.reason === 'kill switch halt: test')).toBe(true);
    // no fill after the cancels reached the venue (halt + 1 ms entry latency)
    expect(r.fills.every((f) => f.tsEvent <= halt + 1_000_000n)).toBe(true);
    // everything before the halt is as without it
    const before = (acts: typeof r.actions) => JSON.stringify(acts.filter((a) => (a.type === 'new' ? a.order.ts : a.cancel.ts) < halt), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(before(r.actions)).toBe(before(free.actions));
  });
});

describe.skipIf(!LOBSTER.present)('lockstep execute on the real LOBSTER AAPL day (2012-06-21)', () => {
  it('twap 14:00-14:30 UTC: fills at prices the day traded at, a coherent report', async () => {
    const lob = join(dir, 'lobster');
    await importLobster(LOBSTER.path('equity_lobster/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip'), lob);
    const o = join(dir, 'aapl.jsonl');
    const r = cli('execute', '--catalog', lob, '--date', '2012-06-21', '--symbol', 'AAPL', '--algo', 'twap', '--side', 'buy', '--qty', '1000', '--from', '14:00', '--to', '14:30', '--min-child', '10', '--orders', o, '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.arrivalPrice).toBeGreaterThan(500);
    expect(j.arrivalPrice).toBeLessThan(620);
    expect(j.filledQty).toBeGreaterThan(0);
    // every fill within a few dollars of the interval VWAP (AAPL traded near 585 that hour)
    const fills = readLines(o).filter((l) => l.type === 'fill');
    expect(fills.every((f) => Math.abs(f.price! * 0.01 - j.intervalVwap) < 10)).toBe(true);
    expect(Math.abs(j.slippageBps.vsIntervalVwap)).toBeLessThan(100);
    expect(j.participation).toBeGreaterThan(0);
    expect(j.participation).toBeLessThan(1);
  }, 120_000);
});
