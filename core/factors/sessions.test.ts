// Per-symbol sessions (issue 21 item 14): `session: 'auto'` resolved from the factor set's table,
// and session bars (bar factors with a session) that skip extended hours and start again each day.
import { describe, expect, it } from 'vitest';
import type { HeartbeatEvent, MarketEvent, TradeEvent } from '../events.ts';
import { withParams } from '../factor.ts';
import { applyEvent, createFactorSet, initFold, type SessionTable } from '../fold.ts';
import { featureSetVersion } from '../registry.ts';
import { parseSessionTable, sessionTableJson } from '../session-table.ts';
import { stateFromJson, stateToJson } from '../state-codec.ts';
import { movingAverage } from './moving-average.ts';
import { sessionVwap } from './vwap.ts';

// 2024-03-12 is a Tuesday in EDT: 09:30 New York is 13:30 UTC
const ny = (hhmm: string, date = '2024-03-12') => BigInt(Date.parse(`${date}T${hhmm}:00Z`) + 4 * 3_600_000) * 1_000_000n;
let seq = 0;
const trade = (symbol: string, t: bigint, price: number): TradeEvent => ({ kind: 'trade', tsEvent: t, tsRecv: t, symbol, seq: BigInt(++seq), price, size: 1, side: 1 });
const beat = (t: bigint): HeartbeatEvent => ({ kind: 'heartbeat', tsEvent: t, tsRecv: t, symbol: '', seq: BigInt(++seq) });

function fold(factors: Parameters<typeof createFactorSet>[0], sessions: SessionTable | undefined, events: MarketEvent[]) {
  const set = createFactorSet(factors, { sessions });
  const st = initFold();
  const rows: { symbol: string; kind: string; values: (number | null)[] }[] = [];
  for (const e of events) applyEvent(set, st, e, (ev, symbol, values) => rows.push({ symbol, kind: ev.kind, values: [...values] }));
  return { set, st, rows };
}

describe('session: auto', () => {
  const auto = withParams(sessionVwap, { session: 'auto' });
  const table: SessionTable = new Map([['AAA', 'us-equity']]);
  const events = () => [trade('AAA', ny('08:00'), 100), trade('BBB', ny('08:00'), 100), trade('AAA', ny('10:00'), 110), trade('BBB', ny('10:00'), 110)];

  it('each symbol takes its session from the table; a symbol it does not list takes the UTC day', () => {
    expect(auto.name).toBe('vwap_session_auto');
    const { rows } = fold([auto], table, events());
    expect(rows.map((r) => `${r.symbol}:${r.values[0]}`)).toEqual(['AAA:null', 'BBB:100', 'AAA:110', 'BBB:105']);
  });

  it('without a table every symbol takes the UTC day, as session utc does', () => {
    const a = fold([auto], undefined, events()).rows.map((r) => r.values[0]);
    const u = fold([sessionVwap], undefined, events()).rows.map((r) => r.values[0]);
    expect(a).toEqual(u);
  });

  it('a checkpointed state keeps the session it was made with', () => {
    const { set, st } = fold([auto], table, events().slice(0, 1));
    const restored = stateFromJson<typeof st>(stateToJson(st));
    const out: (number | null)[] = [];
    applyEvent(set, restored, trade('AAA', ny('10:00'), 110), (_e, _s, v) => out.push(v[0]));
    expect(out).toEqual([110]);
  });

  it('the table is part of the feature-set version when a factor reads it, and only then', () => {
    const other: SessionTable = new Map([['AAA', 'fx-ny17']]);
    expect(featureSetVersion([auto], table)).not.toBe(featureSetVersion([auto], other));
    expect(featureSetVersion([auto], new Map())).toBe(featureSetVersion([auto]));
    expect(featureSetVersion([sessionVwap], table)).toBe(featureSetVersion([sessionVwap]));
  });

  it('the table text is canonical (sorted) and a bad session is one line naming symbol and value', () => {
    expect(sessionTableJson(new Map([['ZZ', 'utc'], ['AA', 'us-equity']]))).toBe('{"sessions":{"AA":"us-equity","ZZ":"utc"}}');
    expect(() => parseSessionTable('{"sessions":{"XXX":"nyse"}}', 'cat/sessions.json')).toThrow('cat/sessions.json: symbol "XXX" has session "nyse"; sessions are utc, us-equity, fx-ny17');
    expect(() => parseSessionTable('[]', 'f')).toThrow(/must be \{"sessions"/);
  });
});

describe('session bars', () => {
  const ma2 = withParams(movingAverage, { bars: 2, session: 'us-equity' });
  const day = (date: string, base: number) => [
    trade('AAA', ny('09:28', date), base), // pre-market: no bar
    trade('AAA', ny('09:29', date), base + 1),
    trade('AAA', ny('09:30', date), base + 2),
    trade('AAA', ny('09:31', date), base + 4),
    trade('AAA', ny('09:32', date), base + 6),
    beat(ny('09:33', date)),
  ];

  it('bars come from in-session trades only, and the kernel warms up again each session', () => {
    expect(ma2.name).toBe('ma_2m_us_equity');
    const all = withParams(movingAverage, { bars: 2 });
    const { rows } = fold([ma2, all], undefined, [...day('2024-03-12', 100), ...day('2024-03-13', 200)]);
    const aaa = rows.filter((r) => r.symbol === 'AAA').map((r) => r.values);
    // day 1: in-session bars 09:30 (102) and 09:31 (104) close at 09:31 and 09:32: mean 103 from 09:32 on
    expect(aaa.slice(0, 6).map((v) => v[0])).toEqual([null, null, null, null, 103, 105]);
    // day 2 starts over: the last day-1 bar (09:32) closes at the pre-market trade of day 2 but
    // belongs to day 1; no value until two day-2 bars closed
    expect(aaa.slice(6).map((v) => v[0])).toEqual([105, 105, 105, null, 203, 205]);
    // the continuous series mixes pre-market bars and yesterday's
    expect(aaa.slice(6, 8).map((v) => v[1])).toEqual([(104 + 106) / 2, (106 + 200) / 2]);
  });

  it('auto bars follow the symbol\'s session; unlisted symbols make bars all UTC day', () => {
    const auto = withParams(movingAverage, { bars: 2, session: 'auto' });
    const events = day('2024-03-12', 100).flatMap((e): MarketEvent[] => (e.kind === 'trade' ? [e, { ...e, symbol: 'BTC', seq: BigInt(++seq) }] : [e]));
    const { rows } = fold([auto], new Map([['AAA', 'us-equity']]), events);
    const at = (sym: string) => rows.filter((r) => r.symbol === sym).map((r) => r.values[0]);
    expect(at('AAA').slice(0, 5)).toEqual([null, null, null, null, 103]);
    // BTC: bars from 09:28 on; two closed by 09:30
    expect(at('BTC').slice(0, 4)).toEqual([null, null, 100.5, 101.5]);
  });
});
