/**
 * `--emit`: the pure step (emit.ts) against its definitions, and through real replays: each mode's
 * table equals what its rule computes from the default table (a row per event), and is
 * byte-identical whatever the output batch size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { writeCatalog } from './catalog.ts';
import { createEmitter, emitDue, emitNext, parseEmit, skipEmpty, type EmitMode } from './emit.ts';
import { readFactorTable, type FactorTable } from './read-factor-table.ts';
import { runReplay } from './run-replay.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

interface In {
  symbol: string;
  ts: bigint;
  seq: bigint;
  values: (number | null)[];
}
interface Out {
  symbol: string;
  seq: bigint;
  ts: bigint;
  values: (number | null)[];
}

/** Runs rows through an emitter as runReplay does (samples due before each row's time are taken first). */
function run(mode: EmitMode, rows: readonly In[]): Out[] {
  const out: Out[] = [];
  const sink = (ev: MarketEvent, symbol: string, values: readonly (number | null)[]) => out.push({ symbol, seq: ev.seq, ts: ev.tsRecv, values: values.slice() });
  const e = createEmitter(mode, sink);
  for (const r of rows) {
    if (emitDue(e, r.ts)) {
      skipEmpty(e, r.ts);
      while (emitDue(e, r.ts)) emitNext(e, sink);
    }
    e.row({ kind: 'trade', seq: r.seq, tsEvent: r.ts, tsRecv: r.ts } as MarketEvent, r.symbol, r.values);
  }
  return out;
}

/** The rules of emit.ts, written the slow obvious way over the whole row list. */
function reference(mode: EmitMode, rows: readonly In[]): Out[] {
  if (mode.kind === 'rows') return rows.map((r) => ({ symbol: r.symbol, seq: r.seq, ts: r.ts, values: r.values }));
  if (mode.kind === 'changes') {
    const prev = new Map<string, (number | null)[]>();
    const out: Out[] = [];
    for (const r of rows) {
      const p = prev.get(r.symbol);
      if (p && p.every((v, i) => Object.is(v, r.values[i]))) continue;
      prev.set(r.symbol, r.values);
      out.push({ symbol: r.symbol, seq: r.seq, ts: r.ts, values: r.values });
    }
    return out;
  }
  if (rows.length === 0) return [];
  const D = mode.stepNs;
  const last = rows[rows.length - 1].ts;
  const out: Out[] = [];
  const first = rows[0].ts;
  // walk the rows once: `latest` holds, at each T, every symbol's last row with ts < T
  const latest = new Map<string, In>();
  let i = 0;
  for (let T = (first / D + 1n) * D; T <= last; T += D) {
    while (i < rows.length && rows[i].ts < T) latest.set(rows[i].symbol, rows[i++]);
    for (const s of [...latest.keys()].sort()) {
      const l = latest.get(s)!;
      if (mode.kind === 'bars' && l.ts < T - D) continue;
      out.push({ symbol: s, seq: l.seq, ts: T, values: l.values });
    }
  }
  return out;
}

describe('parseEmit', () => {
  it('reads the modes and refuses anything else', () => {
    expect(parseEmit('every:1s')).toEqual({ kind: 'every', stepNs: 1_000_000_000n });
    expect(parseEmit('bars:1m')).toEqual({ kind: 'bars', stepNs: 60_000_000_000n });
    expect(parseEmit('changes')).toEqual({ kind: 'changes' });
    expect(parseEmit('rows')).toEqual({ kind: 'rows' });
    for (const bad of ['every', 'every:', 'every:0s', 'every:1x', 'bars:-1m', 'change', 'EVERY:1s', '']) expect(() => parseEmit(bad), bad).toThrow(/--emit/);
  });
});

describe('emit step', () => {
  const row = (symbol: string, ts: number, v: number | null, seq = ts): In => ({ symbol, ts: BigInt(ts), seq: BigInt(seq), values: [v, 1] });

  it('every:D takes the last row strictly before T, for every symbol seen, in name order, across gaps', () => {
    const rows = [row('B', 1, 1), row('A', 5, 2), row('B', 10, 3), row('A', 10, 4), row('A', 35, 5)];
    const out = run({ kind: 'every', stepNs: 10n }, rows);
    expect(out.map((o) => `${o.ts}:${o.symbol}:${o.values[0]}`)).toEqual(['10:A:2', '10:B:1', '20:A:4', '20:B:3', '30:A:4', '30:B:3']);
  });

  it('bars:D has a row only for symbols with a row in [T-D, T), and skips empty intervals', () => {
    const rows = [row('B', 1, 1), row('A', 5, 2), row('B', 10, 3), row('A', 1000, 4), row('A', 1010, 5)];
    const out = run({ kind: 'bars', stepNs: 10n }, rows);
    expect(out.map((o) => `${o.ts}:${o.symbol}:${o.values[0]}`)).toEqual(['10:A:2', '10:B:1', '20:B:3', '1010:A:4']);
  });

  it('changes keeps a row only when a value differs from the symbol\'s previous emitted row (null, NaN, -0 as themselves)', () => {
    const rows = [row('A', 1, 1), row('A', 2, 1), row('B', 3, 1), row('A', 4, null), row('A', 5, null), row('A', 6, NaN), row('A', 7, NaN), row('A', 8, 0), row('A', 9, -0)];
    expect(run({ kind: 'changes' }, rows).map((o) => Number(o.ts))).toEqual([1, 3, 4, 6, 8, 9]);
  });

  it('matches the reference rules on random streams', () => {
    const arb = fc.array(fc.record({ symbol: fc.constantFrom('A', 'B', 'C'), dt: fc.integer({ min: 0, max: 25 }), v: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }) }), { maxLength: 60 });
    fc.assert(
      fc.property(arb, fc.constantFrom<EmitMode>({ kind: 'every', stepNs: 7n }, { kind: 'bars', stepNs: 10n }, { kind: 'changes' }, { kind: 'rows' }), (steps, mode) => {
        let ts = 100;
        const rows = steps.map((s, i) => ({ symbol: s.symbol, ts: BigInt((ts += s.dt)), seq: BigInt(i), values: [s.v] }));
        expect(run(mode, rows)).toEqual(reference(mode, rows));
      }),
      { numRuns: 300 },
    );
  });
});

describe('replay --emit', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-emit-'));
    writeCatalog(join(dir, 'cat'), fixtureRows(), { partBy: 'symbol' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const replay = (out: string, extra = {}) => runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, out), progress: false, ...extra });

  const asRows = (t: FactorTable): In[] => t.symbol.map((symbol, i) => ({ symbol, ts: t.tsRecv[i], seq: t.seq[i], values: t.columns.slice(5).map((c) => t.values[c][i]) }));

  it('each mode equals its rule applied to the default table, whatever the batch size', async () => {
    await replay('all.parquet');
    const all = asRows(await readFactorTable(join(dir, 'all.parquet')));
    // the fixture: a fundamental a day before, then ~75 s of events on three symbols
    for (const text of ['every:10s', 'bars:1s', 'changes']) {
      const mode = parseEmit(text);
      const a = await replay(`${text.replace(':', '-')}-a.parquet`, { emit: mode });
      if (mode.kind === 'every') {
        // a long gap under every:D emits many samples, drained one at a time: the bytes must not care
        const c = await replay(`${text.replace(':', '-')}-c.parquet`, { emit: mode, batchRows: 4500 });
        expect(c.output.sha256, text).toBe(a.output.sha256);
      }
      const got = asRows(await readFactorTable(join(dir, `${text.replace(':', '-')}-a.parquet`)));
      const want = reference(mode, all);
      expect(got.length, text).toBe(want.length);
      expect(got.length, text).toBeGreaterThan(10);
      expect(got, text).toEqual(want);
    }
  }, 120_000);

  it('refuses --emit with --stop-after', async () => {
    await expect(replay('x.parquet', { emit: parseEmit('changes'), stopAfter: 10 })).rejects.toThrow(/--emit: only the default/);
  });
});
