/**
 * Reference check on real data: EMA(12), EMA(26), RSI(14) and MACD(12,26,9) of the default factor
 * set, run by the replayer's own reading path over the real TAQ sample, against TA-Lib's outputs on
 * the same 1-minute closes (core/factors/reference/talib-reference.json, `taq_xxx_1m`).
 *
 * The reference is ONE series over both sessions (955 bars, the overnight gap kept as adjacent
 * bars), while a replay covers one UTC date and starts from fresh state. Chaining replays through
 * checkpoints is not possible (a checkpoint is bound to its date's selection), so this test runs the
 * fold itself (`applyEvent` on one FoldState) over the merged events of every catalog date in date
 * order, each date opened exactly as `runReplay` opens it (`openSelection` + `EventMerge`). That is
 * the replay minus the output sink; the sink's side is covered by comparing the first date's
 * continuous rows with a real `runReplay` of that date, which starts from the same empty state.
 *
 * Reference bar rule (core/factors/reference/README.md): trades with CORR == 0 (the importer drops the others), minute =
 * floor(ts_ms / 60000), close = last trade of the minute in file order (= seq order, which the
 * importer assigns in file order within a millisecond). Our bars close on the first trade or
 * heartbeat past the minute (heartbeats are 1 s apart), so the values are read from the fold state
 * right after the event that closed a bar. All 955 bars close, the last one (00:55 UTC on 01-04)
 * too: the importer's heartbeats span the quotes as well, which run past the last trade's minute.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import type { MinuteBars } from '../core/kernels/minute-bars.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { importTaq } from './import-taq.ts';
import { catalogDates } from '../replay/catalog.ts';
import { EventMerge } from '../replay/merge.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { openSelection, runReplay } from '../replay/run-replay.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = resolve(new URL('..', import.meta.url).pathname);
const REAL = realData('TA-Lib reference on real TAQ trades (continuous fold over every date)', 'equity_taq_highfrequency');
const taqDir = REAL.path('equity_taq_highfrequency');
const refPath = join(repoRoot, 'core/factors/reference/talib-reference.json');

interface RefOut {
  begIndex: number;
  nbElement: number;
  values: number[];
}
interface RefSeries {
  minutes: number[];
  closes: number[];
  ema12: RefOut;
  ema26: RefOut;
  rsi14: RefOut;
  macd: { begIndex: number; nbElement: number; line: number[]; signal: number[]; hist: number[] };
}

const NAMES = ['ema_12', 'ema_26', 'rsi_14', 'macd'];

function pick(names: readonly string[]): AnyFactor[] {
  return names.map((n) => {
    const f = DEFAULT_FACTORS.find((x) => x.name === n);
    if (!f) throw new Error(`no default factor named ${n}`);
    return f;
  });
}

/** One closed bar as the fold saw it: the bar's minute, its close, and every output column. */
interface ClosedBar {
  minute: number;
  close: number;
  date: string;
  values: Record<string, number | null>;
}

/** Relative difference, 0 when bit-identical (also for 0 vs 0). */
function relDiff(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

describe.skipIf(!REAL.present)('TA-Lib reference on real TAQ trades (continuous fold over every date)', () => {
  let dir: string;
  let catalog: string;
  let ref: RefSeries;
  const factors = pick(NAMES);
  const set = createFactorSet(factors);
  const bars: ClosedBar[] = [];
  /** Rows the fold emitted for the first date, in order: key and values. */
  const firstDateRows: { source: string; seq: bigint; values: (number | null)[] }[] = [];
  let dates: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-ref-talib-'));
    catalog = join(dir, 'catalog');
    await importTaq(taqDir, catalog);
    ref = (JSON.parse(readFileSync(refPath, 'utf8')) as { series: Record<string, RefSeries> }).series.taq_xxx_1m;
    dates = catalogDates(catalog);

    const fold = initFold();
    const barState = (): { bars: MinuteBars } | undefined => {
      const s = fold.bySymbol.get('XXX');
      return s && { bars: s.derived[set.derivations.findIndex((d) => d.name === 'minute_bars')] as MinuteBars };
    };
    for (const date of dates) {
      const opened = await openSelection({ catalog, date });
      try {
        const merge = new EventMerge(opened.cursors);
        const sink = (ev: MarketEvent, _symbol: string, values: readonly (number | null)[]) => {
          if (date === dates[0]) firstDateRows.push({ source: ev.kind, seq: ev.seq, values: [...values] });
        };
        for (let ev = merge.next(); ev !== null; ev = merge.next()) {
          const before = barState()?.bars.barsClosed ?? 0;
          applyEvent(set, fold, ev, sink);
          const b = barState();
          if (b && b.bars.barsClosed > before) {
            const s = fold.bySymbol.get('XXX')!;
            bars.push({
              minute: Number(b.bars.closeMinute),
              close: b.bars.close,
              date,
              values: Object.fromEntries(set.columns.map((c, i) => [c, s.values[i]])),
            });
          }
        }
      } finally {
        await opened.close();
      }
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the reference bars: same minutes and closes, in one series over every date', () => {
    expect(dates).toEqual(['2018-01-02', '2018-01-03', '2018-01-04']);
    expect(bars.length).toBe(ref.minutes.length);
    expect(bars.map((b) => b.minute)).toEqual(ref.minutes);
    expect(bars.map((b) => b.close)).toEqual(ref.closes);
    console.log(`[talib-ref] ${bars.length} of ${ref.minutes.length} reference bars closed; per date: ${dates.map((d) => `${d} ${bars.filter((b) => b.date === d).length}`).join(', ')}`);
  });

  it('matches TA-Lib EMA12, EMA26, RSI14 and MACD at every bar close after warm-up (and is null before)', () => {
    const checks: { column: string; out: { begIndex: number; values: number[] } }[] = [
      { column: 'ema_12', out: ref.ema12 },
      { column: 'ema_26', out: ref.ema26 },
      { column: 'rsi_14', out: ref.rsi14 },
      { column: 'macd', out: { begIndex: ref.macd.begIndex, values: ref.macd.line } },
      { column: 'macd_signal', out: { begIndex: ref.macd.begIndex, values: ref.macd.signal } },
      { column: 'macd_hist', out: { begIndex: ref.macd.begIndex, values: ref.macd.hist } },
    ];
    const report: string[] = [];
    for (const { column, out } of checks) {
      let compared = 0;
      let identical = 0;
      let maxAbs = 0;
      let maxRel = 0;
      for (let i = 0; i < bars.length; i++) {
        const got = bars[i].values[column];
        if (i < out.begIndex) {
          expect(got, `${column} at bar ${i} (warm-up)`).toBeNull();
          continue;
        }
        const want = out.values[i - out.begIndex];
        expect(got, `${column} at bar ${i}`).not.toBeNull();
        const rel = relDiff(got!, want);
        expect(rel, `${column} at bar ${i}: got ${got}, TA-Lib ${want}`).toBeLessThanOrEqual(1e-9);
        compared++;
        if (Object.is(got, want)) identical++;
        maxAbs = Math.max(maxAbs, Math.abs(got! - want));
        maxRel = Math.max(maxRel, rel);
      }
      expect(compared).toBe(bars.length - out.begIndex);
      report.push(`${column}: ${compared} compared, ${identical} bit-identical, max abs ${maxAbs}, max rel ${maxRel}`);
    }
    console.log(`[talib-ref] ${report.join('; ')}`);
  });

  it('the first date replayed by runReplay writes the same rows as the continuous fold (fresh state on both)', async () => {
    const out = join(dir, 'first.parquet');
    const summary = await runReplay({ catalog, date: dates[0], out, factors, progress: false });
    const t = await readFactorTable(out);
    expect(summary.rows).toBe(firstDateRows.length);
    expect(t.seq).toEqual(firstDateRows.map((r) => r.seq));
    expect(t.source).toEqual(firstDateRows.map((r) => r.source));
    set.columns.forEach((c, i) => {
      expect(t.values[c], c).toEqual(firstDateRows.map((r) => r.values[i]));
    });
  }, 30_000);
});
