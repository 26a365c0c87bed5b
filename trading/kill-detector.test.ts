/**
 * The kill detector on hand-built rows: each rule fires once per episode, at the right event,
 * with the right action; a stale feed is seen on heartbeats with its deadline as time; the
 * triggers do not depend on how rows are split across streams; bad policies name field and value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initDetector, pushBreach, pushRow, pushWatermark, type DetectorRow, type KillTrigger } from './kill-detector.ts';
import { parseKillPolicy } from './kill-policy.ts';

const COLS = ['spread', 'return_zscore_flag', 'volume_spike_flag', 'price_collar_flag', 'quote_crossed_flag'];
const S = 1_000_000_000n;
const T0 = 1710509400n * S;
const POLICY = {
  flags: { return_zscore_flag: 'alert', volume_spike_flag: 'alert', price_collar_flag: 'kill-symbol', quote_crossed_flag: 'reduce-only-symbol' },
  spread_blowout: { k: 5, window: 4, action: 'reduce-only-symbol' },
  stale_feed: { after: '10s', action: 'alert' },
  limits: { max_daily_loss: 'kill-all', '*': 'alert' },
};
const policy = () => parseKillPolicy(JSON.stringify(POLICY), 'p.json');

let seq = 0n;
const row = (symbol: string, sec: number, source: string, v: Partial<Record<string, number | null>>): DetectorRow => ({ symbol, source, seq: ++seq, ts: T0 + BigInt(sec) * S, values: COLS.map((c) => v[c] ?? null) });

function run(rows: (DetectorRow | bigint)[], streams = 1, streamOf = (_r: DetectorRow) => 0): KillTrigger[] {
  const st = initDetector(policy(), COLS, streams);
  const out: KillTrigger[] = [];
  for (const r of rows) {
    if (typeof r === 'bigint') for (let k = 0; k < streams; k++) pushWatermark(st, k, r, (t) => out.push(t));
    else pushRow(st, streamOf(r), r, (t) => out.push(t));
  }
  return out;
}

describe('kill detector', () => {
  it('each flag fires once per episode, at the event that turned it on, with its action', () => {
    const rows = [
      row('AAA', 1, 'trade', { price_collar_flag: 0, return_zscore_flag: null }),
      row('AAA', 2, 'trade', { price_collar_flag: 1 }), // fires
      row('AAA', 3, 'trade', { price_collar_flag: 1 }), // same episode
      row('BBB', 3, 'quote', { quote_crossed_flag: 1, spread: -0.01 }), // fires (reduce-only)
      row('AAA', 4, 'quote', { price_collar_flag: null }), // null: no change
      row('AAA', 5, 'trade', { price_collar_flag: 0 }), // re-armed
      row('AAA', 6, 'heartbeat', { return_zscore_flag: 1, volume_spike_flag: 1 }), // a bar close on a heartbeat: both fire
      row('AAA', 7, 'trade', { price_collar_flag: 1, return_zscore_flag: 1 }), // collar again (new episode), zscore still on
    ];
    const t = run(rows);
    expect(t.map((x) => [x.rule, x.symbol, x.action, Number((x.ts - T0) / S), x.value])).toEqual([
      ['price_collar_flag', 'AAA', 'kill-symbol', 2, 1],
      ['quote_crossed_flag', 'BBB', 'reduce-only-symbol', 3, 1],
      ['return_zscore_flag', 'AAA', 'alert', 6, 1],
      ['volume_spike_flag', 'AAA', 'alert', 6, 1],
      ['price_collar_flag', 'AAA', 'kill-symbol', 7, 1],
    ]);
    expect(t[0].seq).toBe(rows[1].seq);
    expect(t[0].reason).toBe(`price_collar_flag = 1 on AAA (trade seq ${rows[1].seq})`);
    expect(new Set(t.map((x) => x.episode)).size).toBe(5);
  });

  it('spread blow-out: above k × the median of the previous window of quotes, once per episode', () => {
    const sp = [0.01, 0.02, 0.01, 0.01, 0.04, 0.2, 0.3, 0.01, 0.01, 0.01, 0.01, 0.5];
    // [.01,.02,.01,.01] median .01: .04 ok; [.02,.01,.01,.04] median .015: .2 > .075 fires; .3 same
    // episode; [.01,.04,.2,.3] median .12: .01 re-arms; ... [.01,.01,.01,.01] median .01: .5 fires
    const t = run(sp.map((s, i) => row('AAA', i, 'quote', { spread: s })));
    expect(t.map((x) => [x.rule, x.value, Number((x.ts - T0) / S), x.action])).toEqual([
      ['spread_blowout', 0.2, 5, 'reduce-only-symbol'],
      ['spread_blowout', 0.5, 11, 'reduce-only-symbol'],
    ]);
    expect(t[0].reason).toBe('spread 0.200000 on AAA > 5 × median 0.0150000 of its last 4 quotes');
    // trades and crossed quotes do not count
    expect(run([...sp.slice(0, 4).map((s, i) => row('AAA', i, 'quote', { spread: s })), row('AAA', 5, 'trade', { spread: 1 }), row('AAA', 6, 'quote', { spread: -1 })])).toEqual([]);
  });

  it('stale feed: seen on heartbeats, timed at the deadline, re-armed by the next market event', () => {
    const rows: (DetectorRow | bigint)[] = [row('AAA', 0, 'trade', {}), row('BBB', 1, 'trade', {}), T0 + 5n * S, row('BBB', 8, 'quote', {}), T0 + 11n * S, row('AAA', 12, 'heartbeat', {}), T0 + 30n * S, row('AAA', 31, 'trade', {}), T0 + 41n * S];
    const t = run(rows);
    expect(t.map((x) => [x.rule, x.symbol, Number((x.ts - T0) / S), x.action, x.value])).toEqual([
      ['stale_feed', 'AAA', 10, 'alert', 10], // passed by the heartbeat at 11 (a heartbeat row is no market event)
      ['stale_feed', 'BBB', 18, 'alert', 10], // its quote at 8 moved the deadline
      ['stale_feed', 'AAA', 41, 'alert', 10], // a new episode after the trade at 31
    ]);
    expect(t[0].reason).toBe(`no market event for AAA for 10 s of event time (last at ts_recv ${T0})`);
    // other symbols' rows are not the stream's clock; the symbol's own next row past the deadline is
    const own = run([row('AAA', 0, 'trade', {}), row('BBB', 15, 'trade', {}), row('CCC', 16, 'fundamental', {}), row('AAA', 25, 'quote', {}), T0 + 30n * S]);
    expect(own.map((x) => [x.symbol, Number((x.ts - T0) / S)])).toEqual([['AAA', 10], ['BBB', 25]]);
  });

  it('limit breaches by name, * for the others, once until cleared', () => {
    const st = initDetector(policy(), COLS);
    const out: KillTrigger[] = [];
    const sink = (t: KillTrigger) => out.push(t);
    pushBreach(st, { limit: 'max_daily_loss', scope: 'book', value: -1e6, ts: T0 }, sink);
    pushBreach(st, { limit: 'max_daily_loss', scope: 'book', value: -1.1e6, ts: T0 + S }, sink);
    pushBreach(st, { limit: 'max_position', scope: 'symbol', symbol: 'AAA', value: 5000, ts: T0 + S }, sink);
    pushBreach(st, { limit: 'max_daily_loss', scope: 'book', value: 0, ts: T0 + 2n * S, cleared: true }, sink);
    pushBreach(st, { limit: 'max_daily_loss', scope: 'book', value: -2e6, ts: T0 + 3n * S }, sink);
    expect(out.map((x) => [x.rule, x.symbol, x.action, x.value])).toEqual([
      ['limit:max_daily_loss', null, 'kill-all', -1e6],
      ['limit:max_position', 'AAA', 'alert', 5000],
      ['limit:max_daily_loss', null, 'kill-all', -2e6],
    ]);
  });

  it('the same triggers whatever the split of symbols over streams and the heartbeats in between', () => {
    const syms = ['A', 'B', 'C', 'D'];
    const arb = fc.array(fc.record({ s: fc.constantFrom(...syms), dt: fc.integer({ min: 0, max: 7 }), kind: fc.constantFrom('trade', 'quote', 'heartbeat'), f: fc.constantFrom(0, 1, null), sp: fc.constantFrom(0.01, 0.02, 0.5) }), { maxLength: 80 });
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 3 }), (xs, k) => {
        seq = 0n;
        let sec = 0;
        const rows: (DetectorRow | bigint)[] = [];
        for (const x of xs) {
          sec += x.dt;
          if (x.kind === 'heartbeat') rows.push(T0 + BigInt(sec) * S);
          else rows.push(row(x.s, sec, x.kind, { price_collar_flag: x.f, spread: x.sp }));
        }
        rows.push(T0 + BigInt(sec + 100) * S);
        const key = (t: KillTrigger) => `${t.episode}|${t.action}|${t.value}`;
        const one = run(rows).map(key).sort();
        const many = run(rows, k, (r) => syms.indexOf(r.symbol) % k).map(key).sort();
        expect(many).toEqual(one);
      }),
      { numRuns: 200 },
    );
  });
});

describe('kill policy file', () => {
  it('refuses unknown keys and impossible values, naming field and value', () => {
    const bad: [unknown, RegExp][] = [
      [{ flags: { price_colar_flag: 'kill-symbol' } }, /policy p.json: flags.price_colar_flag = "kill-symbol": unknown key \(known: return_zscore_flag, /],
      [{ flags: { price_collar_flag: 'kill' } }, /flags.price_collar_flag = "kill": not an action \(alert, reduce-only-symbol, kill-symbol, kill-all\)/],
      [{ spread_blowout: { k: 0.5, action: 'alert' } }, /spread_blowout.k = 0.5: must be a number > 1/],
      [{ spread_blowout: { window: 2.5, action: 'alert' } }, /spread_blowout.window = 2.5: must be an integer from 3/],
      [{ stale_feed: { after: '10 sec', action: 'alert' } }, /stale_feed.after = "10 sec": must be a duration > 0/],
      [{ stale_feed: { after: '0s', action: 'alert' } }, /stale_feed.after = "0s"/],
      [{ stale: {} }, /stale = \{\}: unknown key \(known: flags, spread_blowout, stale_feed, limits\)/],
      [{ limits: { 'Max Loss': 'kill-all' } }, /limits.Max Loss = "kill-all": a limit name is lower_snake_case/],
      [{}, /\(root\) = \{\}: no rule/],
      [[], /\(root\) = \[\]: must be a JSON object/],
    ];
    for (const [j, re] of bad) expect(() => parseKillPolicy(JSON.stringify(j), 'p.json')).toThrow(re);
    expect(() => parseKillPolicy('{', 'p.json')).toThrow(/policy p.json: not JSON/);
    expect(() => initDetector(policy(), ['spread'])).toThrow(/policy rule flags.return_zscore_flag reads column return_zscore_flag, which the factor set does not compute/);
    expect(policy().staleFeed).toEqual({ afterNs: 10n * S, action: 'alert' });
  });
});
