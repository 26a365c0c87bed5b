/**
 * `lockstep kill-policy` through the real CLI: on a generated day (the generator's planned price
 * jump trips the collar: killed once, at that trade) and on the real Binance BTCUSDT day, each
 * checked against a naive recomputation of the rules from the factor fold's rows of the same date
 * (a flag's 0→1 transitions; the spread blow-out's median from a plain sorted copy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { importBinance } from '../datasets/import-binance.ts';
import type { MarketEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { readCatalogSessions } from '../replay/catalog.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';
import { realData } from '../testing/real-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const REAL = realData('kill-policy replay on the real Binance day', 'crypto_binance_btcusdt');
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kill-replay-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

interface J {
  time: string;
  ts_recv: string;
  symbol: string | null;
  rule: string;
  value: number | null;
  action: string;
  reason: string;
  seq: string | null;
}

function killPolicy(catalog: string, date: string, policy: object): J[] {
  const p = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(policy));
  const r = cli('kill-policy', '--catalog', catalog, '--date', date, '--policy', p, '--json');
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as J);
}

/**
 * The factor fold's output rows of the date (what `lockstep replay` writes: same selection, merge,
 * factors and sessions), as plain objects with the columns asked for.
 */
async function foldRows(catalog: string, date: string, cols: string[]): Promise<Record<string, unknown>[]> {
  const set = createFactorSet(DEFAULT_FACTORS, { sessions: readCatalogSessions(catalog) });
  const at = cols.map((c) => set.columns.indexOf(c));
  const fold = initFold();
  const opened = await openSelection({ catalog, date, warmup: 'date-start' });
  const out: Record<string, unknown>[] = [];
  try {
    const m = new EventMerge(opened.cursors);
    for (let e: MarketEvent | null = m.next(); e !== null; e = m.next()) {
      applyEvent(set, fold, e, (ev, symbol, values) => out.push({ symbol, source: ev.kind, seq: ev.seq, ts_recv: ev.tsRecv, ...Object.fromEntries(cols.map((c, i) => [c, values[at[i]]])) }));
    }
  } finally {
    await opened.close();
  }
  return out;
}

/** The 0→1 transitions of `col`, per symbol (null leaves the state as it was). */
function flagOnsets(rows: Record<string, unknown>[], col: string): string[] {
  const on = new Map<string, boolean>();
  const out: string[] = [];
  for (const r of rows) {
    const v = r[col] as number | null;
    const s = r.symbol as string;
    if (v === null) continue;
    if (v === 0) on.set(s, false);
    else if (!on.get(s)) {
      on.set(s, true);
      out.push(`${s}|${r.ts_recv}|${r.seq}`);
    }
  }
  return out;
}

describe('lockstep kill-policy', () => {
  it('a generated day: the planned price jump trips the collar once, at the jump, and the symbol is killed', async () => {
    const cat = join(dir, 'gen');
    const g = await generateDay({ date: '2024-03-15', symbols: 3, seed: 7, preset: 'tiny', out: cat });
    const policy = { flags: { price_collar_flag: 'kill-symbol', return_zscore_flag: 'alert' }, stale_feed: { after: '60s', action: 'alert' } };
    const got = killPolicy(cat, '2024-03-15', policy);
    const collar = got.filter((t) => t.rule === 'price_collar_flag');
    const rows = await foldRows(cat, '2024-03-15', ['price_collar_flag', 'return_zscore_flag']);
    expect(collar.map((t) => `${t.symbol}|${t.ts_recv}|${t.seq}`)).toEqual(flagOnsets(rows, 'price_collar_flag'));
    expect(got.filter((t) => t.rule === 'return_zscore_flag').map((t) => `${t.symbol}|${t.ts_recv}|${t.seq}`)).toEqual(flagOnsets(rows, 'return_zscore_flag'));
    // the jump symbol is killed at the first trade at or after the planned jump
    const jump = collar.filter((t) => t.symbol === g.plan.jump.symbol && BigInt(t.ts_recv) >= g.plan.jump.atNs);
    expect(jump.length).toBeGreaterThan(0);
    expect(BigInt(jump[0].ts_recv) - g.plan.jump.atNs).toBeLessThan(60_000_000_000n);
    expect(jump[0]).toMatchObject({ action: 'kill-symbol', value: 1 });
    expect(got.some((t) => t.rule === 'stale_feed' && t.action === 'alert')).toBe(true);
    // the text form: one line per trigger and a count
    const p = join(dir, 'text.json');
    writeFileSync(p, JSON.stringify(policy));
    const text = cli('kill-policy', '--catalog', cat, '--date', '2024-03-15', '--policy', p);
    expect(text.stdout).toContain(`${jump[0].time}  ${g.plan.jump.symbol}    price_collar_flag   1           kill-symbol         price_collar_flag = 1 on ${g.plan.jump.symbol} (trade seq ${jump[0].seq})\n`);
    expect(text.stdout).toMatch(new RegExp(`kill-policy: ${got.length} trigger\\(s\\) over \\d+ events \\(${rows.length} factor rows\\)\\n$`));
    // a bad policy: one line naming the field and value
    writeFileSync(p, JSON.stringify({ flags: { price_collar_flag: 'halt' } }));
    const bad = cli('kill-policy', '--catalog', cat, '--date', '2024-03-15', '--policy', p);
    expect([bad.status, bad.stderr]).toEqual([2, `lockstep: policy ${p}: flags.price_collar_flag = "halt": not an action (alert, reduce-only-symbol, kill-symbol, kill-all)\n`]);
  }, 120_000);

  it.skipIf(!REAL.present)('the real Binance day: spread blow-outs exactly where a naive recomputation finds them', async () => {
    const cat = join(dir, 'binance');
    await importBinance(REAL.path('crypto_binance_btcusdt'), cat);
    const k = 20;
    const window = 100;
    const got = killPolicy(cat, '2024-08-09', { spread_blowout: { k, window, action: 'reduce-only-symbol' }, stale_feed: { after: '2s', action: 'alert' } });
    const rows = await foldRows(cat, '2024-08-09', ['spread']);
    // naive: every positive quote spread against the sorted copy of the previous `window`
    const prev: number[] = [];
    let open = false;
    const want: string[] = [];
    for (const r of rows) {
      const sp = r.spread as number | null;
      if (r.source !== 'quote' || sp === null || !(sp > 0)) continue;
      if (prev.length >= window) {
        const w = prev.slice(-window).sort((a, b) => a - b);
        const med = (w[window / 2 - 1] + w[window / 2]) / 2;
        if (sp <= k * med) open = false;
        else if (!open) {
          open = true;
          want.push(`${r.ts_recv}|${r.seq}|${sp}`);
        }
      }
      prev.push(sp);
    }
    const blowouts = got.filter((t) => t.rule === 'spread_blowout');
    expect(want.length).toBeGreaterThan(10);
    expect(blowouts.map((t) => `${t.ts_recv}|${t.seq}|${t.value}`)).toEqual(want);
    expect(new Set(blowouts.map((t) => t.action))).toEqual(new Set(['reduce-only-symbol']));
    // times never go back
    const ts = got.map((t) => BigInt(t.ts_recv));
    expect(ts.every((t, i) => i === 0 || t >= ts[i - 1] || got[i].rule !== got[i - 1].rule)).toBe(true);
  }, 180_000);
});
