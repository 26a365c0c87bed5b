/**
 * `lockstep pnl` (replay side): replays a catalog's date through the factor fold (only the mark and
 * rv columns, only the symbols the fills and positions hold), merges the fills by ts_recv (market
 * rows first at the same instant: pnl-fold.ts), runs the PnL fold, and writes the PnL time series
 * and the limit breaches as Parquet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { withParams } from '../core/factor.ts';
import { lastPrice } from '../core/factors/last-price.ts';
import { mid } from '../core/factors/l1-quote.ts';
import { realizedVol } from '../core/factors/realized-vol.ts';
import { encodeParquet, type ColumnSpec } from '../replay/parquet-io.ts';
import { openFactorTableStream } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { readFillsFile, readPositionsFile } from './fills-file.ts';
import { defaultInstruments, readInstruments } from './instruments.ts';
import { DEFAULT_VAR, type MarkSource } from './ledger.ts';
import { snapshot, type BookRecord, type LedgerSnapshot } from './ledger-snapshot.ts';
import { noLimits, type LimitRecord } from './limits.ts';
import { readLimits } from './limits-file.ts';
import { initPnlFold, pnlOutput, stepFill, stepRow } from './pnl-fold.ts';

export interface PnlReplayOptions {
  catalog: string;
  date: string;
  fills: string;
  positions?: string;
  instruments?: string;
  limits?: string;
  mark: MarkSource;
  out: string;
  breaches: string;
  every: bigint;
  /** VaR: rv window in minutes (a realized-vol factor rv_Nm is replayed for it), horizon minutes, z. */
  varRvMinutes?: number;
  varHorizonMinutes?: number;
  varZ?: number;
}

export interface PnlReplaySummary {
  events: number;
  rows: number;
  fills: number;
  applied: number;
  rejected: { fillId: string; reason: string; detail: string }[];
  duplicates: string[];
  samples: number;
  breaches: LimitRecord[];
  final: LedgerSnapshot;
  out: string;
  breachesOut: string;
}

/** Runs the replay and writes both files; returns what the CLI prints. */
export async function runPnlReplay(o: PnlReplayOptions): Promise<PnlReplaySummary> {
  const instruments = o.instruments ? readInstruments(o.instruments) : defaultInstruments();
  const limits = o.limits ? readLimits(o.limits) : noLimits();
  const startPositions = o.positions ? await readPositionsFile(o.positions, instruments) : [];
  const { fills, duplicates } = await readFillsFile(o.fills, instruments);
  // file order within an instant (a stable sort): the fills' own order is the gateway's
  fills.sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : a.tsRecv > b.tsRecv ? 1 : 0));
  const rvMin = o.varRvMinutes ?? DEFAULT_VAR.varRvMinutes;
  const st = initPnlFold({
    ledger: { instruments, mark: o.mark, varRvMinutes: rvMin, varHorizonMinutes: o.varHorizonMinutes ?? DEFAULT_VAR.varHorizonMinutes, varZ: o.varZ ?? DEFAULT_VAR.varZ, startPositions },
    limits, every: o.every, from: dayStart(o.date),
  });
  const symbols = [...new Set([...fills.map((f) => f.symbol), ...startPositions.map((p) => p.symbol)])].sort();
  const markCol = o.mark === 'mid' ? 'mid' : 'last_price';
  const rvCol = `rv_${rvMin}m`;
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-pnl-'));
  const samples: BookRecord[] = [];
  const breaches: LimitRecord[] = [];
  const rejected: PnlReplaySummary['rejected'] = [];
  let events = 0;
  let rows = 0;
  try {
    const tablePath = join(dir, 'factors.parquet');
    if (symbols.length > 0) {
      // every kind of event, as a live deployment folds them: a realized-vol bar closes on the first
      // event of the symbol past it, a fundamentals or news row included, and the VaR's float sum
      // depends on which row brings the new rv (so `lockstep desk` and this give the same bits)
      const s = await runReplay({ catalog: o.catalog, date: o.date, symbols, factors: [o.mark === 'mid' ? mid : lastPrice, withParams(realizedVol, { bars: rvMin })], out: tablePath, progress: false });
      events = s.events;
    }
    const out = pnlOutput();
    const drain = () => {
      for (const r of out.samples) samples.push(r);
      for (const r of out.breaches) breaches.push(r);
      out.samples.length = 0;
      out.breaches.length = 0;
    };
    let fi = 0;
    const applyFillsBefore = (ts: bigint | null) => {
      // fills strictly before ts (ts = null: all the rest); at the same instant the market rows go first
      while (fi < fills.length && (ts === null || fills[fi].tsRecv < ts)) {
        const f = fills[fi++];
        const r = stepFill(st, f, out);
        if (r !== 'applied') rejected.push({ fillId: f.fillId, reason: r.rejected, detail: r.detail });
      }
    };
    if (symbols.length > 0) {
      const table = await openFactorTableStream(tablePath);
      const mi = table.factorColumns.indexOf(markCol);
      const ri = table.factorColumns.indexOf(rvCol);
      for await (const c of table.chunks()) {
        const mc = c.columns[mi];
        const rc = c.columns[ri];
        for (let i = 0; i < c.n; i++) {
          const ts = c.tsRecv[i];
          applyFillsBefore(ts);
          stepRow(st, { symbol: c.symbol[i], ts, price: valueAt(mc, i), rv: valueAt(rc, i) }, out);
          rows++;
          if (out.samples.length > 4096) drain();
        }
        drain();
      }
    }
    applyFillsBefore(null);
    drain();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(o.out, encodeSamples(samples, o));
  writeFileSync(o.breaches, encodeBreaches(breaches));
  const final = snapshot(st.ledger, st.last ?? 0n);
  return { events, rows, fills: fills.length + duplicates.length, applied: st.ledger.applied, rejected, duplicates, samples: samples.length, breaches, final, out: o.out, breachesOut: o.breaches };
}

function valueAt(c: { values: Float64Array; bits: Uint8Array | null; bitOffset: number } | undefined, i: number): number | null {
  if (!c) return null;
  if (c.bits) {
    const j = c.bitOffset + i;
    if (((c.bits[j >> 3] >> (j & 7)) & 1) === 0) return null;
  }
  const v = c.values[i];
  return Number.isFinite(v) ? v : null;
}

const SAMPLE_NUMBERS = ['realized', 'unrealized', 'fees', 'day_pnl', 'hwm', 'drawdown', 'gross', 'net', 'concentration', 'var'] as const;
const SAMPLE_KEYS: Record<(typeof SAMPLE_NUMBERS)[number], keyof BookRecord> = {
  realized: 'realized', unrealized: 'unrealized', fees: 'fees', day_pnl: 'dayPnl', hwm: 'hwm', drawdown: 'drawdown', gross: 'gross', net: 'net', concentration: 'concentration', var: 'var',
};

/** The PnL series: one row per book (and the total, account/strategy `*`) per sampled second. */
function encodeSamples(s: readonly BookRecord[], o: PnlReplayOptions): Uint8Array {
  const n = s.length;
  const specs: ColumnSpec[] = [
    { name: 'ts', type: 'timestamp' }, { name: 'account', type: 'utf8' }, { name: 'strategy', type: 'utf8' }, { name: 'positions', type: 'int32' },
    ...SAMPLE_NUMBERS.map((name) => ({ name, type: 'float64' as const })), { name: 'var_missing', type: 'int32' },
  ];
  const cols: Record<string, import('../replay/parquet-io.ts').ColumnData> = {
    ts: BigInt64Array.from(s, (r) => r.ts), account: s.map((r) => r.account), strategy: s.map((r) => r.strategy),
    positions: Int32Array.from(s, (r) => r.positions), var_missing: Int32Array.from(s, (r) => r.varMissing),
  };
  for (const name of SAMPLE_NUMBERS) cols[name] = Float64Array.from(s, (r) => r[SAMPLE_KEYS[name]] as number);
  return encodeParquet(specs, cols, n, { metadata: { pnl: { date: o.date, mark: o.mark, every_ns: String(o.every) } } });
}

/** The breaches table: one row per breach start or end. */
function encodeBreaches(b: readonly LimitRecord[]): Uint8Array {
  const specs: ColumnSpec[] = [
    { name: 'ts', type: 'timestamp' }, { name: 'event', type: 'utf8' }, { name: 'limit', type: 'utf8' }, { name: 'scope', type: 'utf8' },
    { name: 'value', type: 'float64' }, { name: 'threshold', type: 'float64' }, { name: 'action', type: 'utf8' },
  ];
  return encodeParquet(specs, {
    ts: BigInt64Array.from(b, (r) => r.ts), event: b.map((r) => r.event), limit: b.map((r) => r.limit), scope: b.map((r) => r.scope),
    value: Float64Array.from(b, (r) => r.value), threshold: Float64Array.from(b, (r) => r.threshold), action: b.map((r) => r.action),
  }, b.length);
}

/** The short summary `lockstep pnl` prints. */
export function formatPnlSummary(s: PnlReplaySummary): string {
  const money = (x: number) => x.toFixed(2);
  const lines = [`pnl: ${s.events} events, ${s.rows} factor rows, ${s.fills} fills (${s.applied} applied, ${s.duplicates.length} duplicates, ${s.rejected.length} rejected), ${s.samples} samples`];
  for (const b of s.final.books) {
    const name = b.account === '*' ? 'total' : `${b.account}/${b.strategy}`;
    lines.push(`  ${name}: day PnL ${money(b.dayPnl)} (realized ${money(b.realized)}, unrealized ${money(b.unrealized)}, fees ${money(b.fees)}), drawdown ${money(b.drawdown)}, gross ${money(b.gross)}, VaR ${money(b.var)}`);
  }
  const starts = s.breaches.filter((b) => b.event === 'breach');
  lines.push(`breaches: ${starts.length}${starts.length ? '' : ' (none)'}`);
  for (const b of starts.slice(0, 10)) lines.push(`  ${b.limit} ${b.scope}: ${b.value} > ${b.threshold} → ${b.action}`);
  lines.push(`wrote ${s.out} and ${s.breachesOut}`);
  return lines.join('\n');
}

/** 00:00 UTC of a YYYY-MM-DD date, in epoch ns. */
function dayStart(date: string): bigint {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) throw new UsageError(`--date ${JSON.stringify(date)}: not a date (YYYY-MM-DD)`);
  return BigInt(ms) * 1_000_000n;
}
