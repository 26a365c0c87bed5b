/**
 * Control events of the weights fold without Redis: a kill-switch change at K is in force for the
 * rebalances after K ('all' kills everything, 'off' restores); a live-like driver (K shards plus a
 * control stream it stamps at the shards' watermark, at random points of a random interleaving)
 * and a replay-like run (one time-ordered stream, the logged events merged in by time, as
 * replay-weights.ts does) give the same records bit for bit; the log fields, the stamping, the
 * kill diff and the inputs file's errors (control.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.ts';
import { KILL_OFF, type KillState } from '../live/kill-switch.ts';
import type { WeightsConfig } from './config.ts';
import { decodeControlFields, killChanges, killLogEntries, parseControlLines, stampRequest } from './control.ts';
import { initWeightsFold, killView, pushControl, pushRows, pushWatermark, type ControlEvent, type KillMode, type WeightsRecord } from './fold.ts';

const MIN = 60_000_000_000n;
const OPEN = 1710509400_000_000_000n;
const SYMS = ['A', 'B', 'C', 'D'];

const cfg = (o: Partial<WeightsConfig> = {}): WeightsConfig => ({
  signal: 'sig',
  method: 'zscore',
  zClip: 3,
  construction: 'dollar-neutral',
  maxWeight: 0.5,
  grossLeverage: 1,
  vol: null,
  turnoverLimit: null,
  everyNs: null,
  session: 'us-equity',
  staleNs: null,
  killedColumn: null,
  haltedColumn: null,
  universe: 'all',
  time: 'ts_recv',
  ...o,
});

const plain = (rs: WeightsRecord[]) => rs.map((r) => ({ ...r, weights: [...r.weights] }));
const entry = (reason: string) => ({ reason, by: 't', at: 0 });

describe('kill-switch changes in the weights fold', () => {
  it('a kill at K excludes the symbol from the rebalances after K; all kills everything; off restores', () => {
    const st = initWeightsFold(cfg(), 1);
    const out: WeightsRecord[] = [];
    const sink = (r: WeightsRecord) => out.push(r);
    pushRows(st, 0, ['A', 'B', 'C'].map((symbol, i) => ({ symbol, ts: OPEN + BigInt(i), values: [i - 1] })), sink);
    const at = (m: bigint) => OPEN + m * MIN;
    const ev: ControlEvent[] = [
      { kind: 'kill', ts: at(1n), symbol: 'A', mode: 'halt' },
      { kind: 'request', ts: at(1n) },
      { kind: 'request', ts: at(1n) + 1n },
      { kind: 'kill', ts: at(2n), symbol: null, mode: 'reduce-only' },
      { kind: 'request', ts: at(3n) },
      { kind: 'kill', ts: at(3n), symbol: null, mode: 'off' },
      { kind: 'request', ts: at(4n) },
      { kind: 'kill', ts: at(4n), symbol: 'A', mode: 'off' },
      { kind: 'request', ts: at(5n) },
    ];
    for (const e of ev) pushControl(st, 0, e, sink);
    expect(out).toEqual([]); // the stream has not reached any T
    pushWatermark(st, 0, at(10n), sink);
    expect(out.map((r) => [r.t, r.trigger, r.excluded])).toEqual([
      [at(1n), 'request', [null, null, null]], // the kill at T is not in force at T
      [at(1n) + 1n, 'request', ['killed', null, null]],
      [at(3n), 'request', ['killed', 'killed', 'killed']],
      [at(4n), 'request', ['killed', null, null]], // all off: A's own entry stays
      [at(5n), 'request', [null, null, null]],
    ]);
    // a killed symbol's weight winds down (to zero here: no turnover limit), the others take the book
    expect([...out[1].weights]).toEqual([0, -0.5, 0.5]);
    expect(killView(st)).toEqual({ all: 'off', symbols: new Map() });
  });

  it('a request or a kill at or before the control stream\'s watermark W counts at W + 1 ns (request) or W (kill)', () => {
    const st = initWeightsFold(cfg(), 2);
    const out: WeightsRecord[] = [];
    const sink = (r: WeightsRecord) => out.push(r);
    pushRows(st, 0, [{ symbol: 'A', ts: OPEN, values: [1] }, { symbol: 'B', ts: OPEN, values: [-1] }], sink);
    pushWatermark(st, 1, OPEN + 5n, sink);
    pushControl(st, 1, { kind: 'request', ts: OPEN + 2n }, sink);
    pushControl(st, 1, { kind: 'kill', ts: OPEN + 1n, symbol: 'B', mode: 'halt' }, sink);
    // a request for a later time does not move the stream's watermark
    pushControl(st, 1, { kind: 'request', ts: OPEN + 100n }, sink);
    expect(st.marks[1]).toBe(OPEN + 5n);
    expect(st.requests).toEqual([OPEN + 6n, OPEN + 100n]);
    expect(st.kills).toEqual([{ ts: OPEN + 5n, symbol: 'B', mode: 'halt' }]);
    pushWatermark(st, 0, OPEN + 200n, sink);
    pushWatermark(st, 1, OPEN + 200n, sink);
    expect(out.map((r) => [r.t, r.excluded])).toEqual([
      [OPEN + 6n, [null, 'killed']],
      [OPEN + 100n, [null, 'killed']],
    ]);
  });

  type Item = { kind: 'row'; sym: number; dt: number; sig: number } | { kind: 'beat'; dt: number } | { kind: 'ask'; ahead: number | null } | { kind: 'kill'; sym: number; mode: KillMode };
  const itemArb: fc.Arbitrary<Item> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('row' as const), sym: fc.nat(SYMS.length - 1), dt: fc.integer({ min: 0, max: 90 }), sig: fc.double({ min: -3, max: 3, noNaN: true }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('beat' as const), dt: fc.integer({ min: 0, max: 90 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ask' as const), ahead: fc.option(fc.integer({ min: -120, max: 600 }), { nil: null }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), sym: fc.nat(SYMS.length), mode: fc.constantFrom<KillMode>('off', 'halt', 'reduce-only') }) },
  );

  it('live-like (shards + a stamped control stream) equals replay-like (one stream, the log merged by time), whatever the interleaving', () => {
    let records = 0;
    let killed = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(itemArb, { minLength: 5, maxLength: 120 }), fc.array(fc.nat(), { maxLength: 300 }), (k, items, order) => {
        const c = cfg({ everyNs: 2n * MIN, staleNs: 10n * MIN });
        // the shards' sequences on one clock (a beat goes to every shard), and the operator's asks in posting order
        const seqs: ({ ts: bigint; row: { symbol: string; ts: bigint; values: number[] } | null })[][] = Array.from({ length: k }, () => []);
        const global: ({ ts: bigint; row: { symbol: string; ts: bigint; values: number[] } | null })[] = [];
        const asks: Item[] = [];
        let t = OPEN - MIN;
        for (const x of items) {
          if (x.kind === 'row') {
            t += BigInt(x.dt) * 1_000_000_000n;
            const e = { ts: t, row: { symbol: SYMS[x.sym], ts: t, values: [x.sig] } };
            seqs[x.sym % k].push(e);
            global.push(e);
          } else if (x.kind === 'beat') {
            t += BigInt(x.dt) * 1_000_000_000n;
            for (const q of seqs) q.push({ ts: t, row: null });
            global.push({ ts: t, row: null });
          } else asks.push(x);
        }
        const end = t + 30n * MIN;
        for (const q of seqs) q.push({ ts: end, row: null });
        global.push({ ts: end, row: null });

        // live: stream k is the control stream; a poll stamps the next ask at W, the shards' watermark
        const live = initWeightsFold(c, k + 1);
        const lo: WeightsRecord[] = [];
        const ls = (r: WeightsRecord) => lo.push(r);
        const logged: ControlEvent[] = [];
        const pos = seqs.map(() => 0);
        let next = 0;
        const poll = () => {
          let w: bigint | null = null;
          for (let s = 0; s < k; s++) if (live.marks[s] === null) return;
          else if (w === null || live.marks[s]! < w) w = live.marks[s];
          if (next < asks.length) {
            const a = asks[next++];
            const ev: ControlEvent = a.kind === 'ask' ? { kind: 'request', ts: a.ahead === null ? w! + 1n : (w! + BigInt(a.ahead) * 1_000_000_000n > w! ? w! + BigInt(a.ahead) * 1_000_000_000n : w! + 1n) } : { kind: 'kill', ts: w!, symbol: a.kind === 'kill' && a.sym < SYMS.length ? SYMS[a.sym] : null, mode: (a as { mode: KillMode }).mode };
            logged.push(ev);
            pushControl(live, k, ev, ls);
          }
          pushWatermark(live, k, w!, ls);
        };
        const deliver = (s: number) => {
          const e = seqs[s][pos[s]++];
          if (e.row) pushRows(live, s, [e.row], ls);
          else pushWatermark(live, s, e.ts, ls);
        };
        for (const p of order) {
          const s = p % (k + 1);
          if (s === k) poll();
          else if (pos[s] < seqs[s].length) deliver(s);
        }
        for (let s = 0; s < k; s++) while (pos[s] < seqs[s].length) deliver(s);
        while (next < asks.length) poll();
        poll();

        // replay: one stream in time order, each logged event before the items at or after its time
        const rep = initWeightsFold(c, 1);
        const ro: WeightsRecord[] = [];
        const rs = (r: WeightsRecord) => ro.push(r);
        const evs = [...logged].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
        let j = 0;
        for (const e of global) {
          while (j < evs.length && evs[j].ts <= e.ts) pushControl(rep, 0, evs[j++], rs);
          if (e.row) pushRows(rep, 0, [e.row], rs);
          else pushWatermark(rep, 0, e.ts, rs);
        }
        expect(plain(lo)).toEqual(plain(ro));
        records += lo.length;
        killed += lo.filter((r) => r.excluded.includes('killed')).length;
      }),
      { numRuns: 300 },
    );
    // the property met real rebalances, some with killed symbols
    expect(records).toBeGreaterThan(300);
    expect(killed).toBeGreaterThan(30);
  });
});

describe('the control log (control.ts)', () => {
  it('stamps a request at its time when the shards have not reached it, else at W + 1 ns; refuses a bad at', () => {
    const w = 1_000n;
    expect(stampRequest('5-0', [], w)).toEqual(['kind', 'request', 'ts', '1001', 'id', '5-0']);
    expect(stampRequest('5-1', ['at', '5000', 'by', 'x'], w)).toEqual(['kind', 'request', 'ts', '5000', 'id', '5-1', 'at', '5000']);
    expect(stampRequest('5-2', ['at', '10'], w)).toEqual(['kind', 'request', 'ts', '1001', 'id', '5-2', 'at', '10']);
    expect(stampRequest('5-3', ['at', 'soon'], w)).toEqual(['kind', 'refused', 'id', '5-3', 'reason', 'at "soon": must be epoch nanoseconds']);
    expect(decodeControlFields(stampRequest('5-1', ['at', '5000'], w))).toEqual({ ev: { kind: 'request', ts: 5000n }, requestId: '5-1', changeId: null });
    expect(decodeControlFields(['kind', 'refused', 'id', '5-3', 'reason', 'r'])).toEqual({ ev: null, requestId: '5-3', changeId: null, reason: 'r' });
    // a kill entry records where the changes stream was read up to
    expect(decodeControlFields(['kind', 'kill', 'mode', 'halt', 'symbol', 'A', 'reason', 'r', 'ts', '7', 'change', '12-3'])).toEqual({ ev: { kind: 'kill', ts: 7n, symbol: 'A', mode: 'halt' }, requestId: null, changeId: '12-3', reason: 'r' });
    expect(decodeControlFields(['kind', 'nope'])).toEqual({ bad: 'kind "nope": must be request, kill or refused' });
    expect(decodeControlFields(['kind', 'kill', 'mode', 'on', 'ts', '1'])).toEqual({ bad: 'mode "on": must be off, reduce-only or halt' });
  });

  it('diffs the switch against the fold\'s view: the deployment first, then symbols in code-unit order; unreadable is a halt of all', () => {
    const view = { all: 'off' as KillMode, symbols: new Map<string, KillMode>([['B', 'halt'], ['a', 'halt']]) };
    const now: KillState = { all: null, symbols: { C: { ...entry('feed'), mode: 'reduce-only' }, a: entry('still') } };
    expect(killChanges(view, now, 7n)).toEqual([
      ['kind', 'kill', 'mode', 'off', 'symbol', 'B', 'reason', 'switched off', 'ts', '7'],
      ['kind', 'kill', 'mode', 'reduce-only', 'symbol', 'C', 'reason', 'feed', 'ts', '7'],
    ]);
    expect(killChanges({ all: 'off', symbols: new Map() }, KILL_OFF, 7n)).toEqual([]);
    expect(killChanges({ all: 'off', symbols: new Map() }, { all: entry('unreadable'), symbols: {}, unreadable: true }, 9n)).toEqual([['kind', 'kill', 'mode', 'halt', 'symbol', '', 'reason', 'unreadable', 'ts', '9']]);
  });

  it('requests read at one W each get their own time (W + 1, W + 2, ...) and so their own rebalance; the same future time is shared', () => {
    const w = 1_000n;
    const taken = new Set<bigint>();
    const stamp = (id: string, f: string[]) => {
      const e = stampRequest(id, f, w, (t) => taken.has(t));
      taken.add(BigInt(e[3]));
      return e[3];
    };
    expect([stamp('6-0', []), stamp('6-1', ['at', '10']), stamp('6-2', []), stamp('6-3', ['at', '5000']), stamp('6-4', ['at', '5000'])]).toEqual(['1001', '1002', '1003', '5000', '5000']);
    // through the fold: two requests read at W are two rebalances, not one
    const st = initWeightsFold(cfg(), 2);
    const out: WeightsRecord[] = [];
    const sink = (r: WeightsRecord) => out.push(r);
    pushRows(st, 0, [{ symbol: 'A', ts: OPEN, values: [1] }, { symbol: 'B', ts: OPEN, values: [-1] }], sink);
    pushWatermark(st, 0, OPEN + 10n, sink);
    const seen = new Set(st.requests);
    for (const id of ['7-0', '7-1']) {
      const e = stampRequest(id, [], OPEN + 10n, (t) => seen.has(t));
      const d = decodeControlFields(e);
      if ('bad' in d || d.ev === null) throw new Error('not a request');
      seen.add(d.ev.ts);
      pushControl(st, 1, d.ev, sink);
    }
    pushWatermark(st, 1, OPEN + 10n, sink);
    pushWatermark(st, 0, OPEN + MIN, sink);
    pushWatermark(st, 1, OPEN + MIN, sink);
    expect(out.map((r) => [r.t - OPEN, r.trigger])).toEqual([[11n, 'request'], [12n, 'request']]);
  });

  it('every change read is logged in order (on then off between two reads: two entries), then the state as the fail-closed fallback', () => {
    const off = { all: 'off' as KillMode, symbols: new Map<string, KillMode>() };
    const onA: KillState = { all: null, symbols: { A: entry('bad prints') } };
    // on then off between two polls: both, in order, at the same W, each with the stream position
    expect(killLogEntries(off, [onA, KILL_OFF], KILL_OFF, 7n, '9-0')).toEqual([
      ['kind', 'kill', 'mode', 'halt', 'symbol', 'A', 'reason', 'bad prints', 'ts', '7', 'change', '9-0'],
      ['kind', 'kill', 'mode', 'off', 'symbol', 'A', 'reason', 'switched off', 'ts', '7', 'change', '9-0'],
    ]);
    // sampling the state alone (what the driver did before the stream) sees nothing
    expect(killChanges(off, KILL_OFF, 7n)).toEqual([]);
    // a change no entry carries (a writer that does not append): met from the state
    expect(killLogEntries(off, [], { all: entry('by hand'), symbols: {} }, 8n, '9-0')).toEqual([['kind', 'kill', 'mode', 'halt', 'symbol', '', 'reason', 'by hand', 'ts', '8', 'change', '9-0']]);
    // the state is not the fallback while changes are left to read (a read stopped by its count)
    expect(killLogEntries(off, [onA], null, 8n, '9-1')).toHaveLength(1);
    // a change that moves no mode (a new reason) logs nothing
    expect(killLogEntries({ all: 'off', symbols: new Map([['A', 'halt']]) }, [{ all: null, symbols: { A: entry('other reason') } }], null, 8n, '9-2')).toEqual([]);
  });

  it('reads an inputs file, refusing a bad line with its file and row', () => {
    const text = '{"id":"1-0","fields":{"kind":"kill","mode":"halt","symbol":"A","reason":"r","ts":"5"}}\n\n{"id":"2-0","fields":{"kind":"refused","id":"1-1","reason":"x"}}\n{"id":"3-0","fields":{"kind":"request","ts":"9","id":"1-2"}}\n';
    expect(parseControlLines(text, 'in.jsonl')).toEqual([
      { kind: 'kill', ts: 5n, symbol: 'A', mode: 'halt' },
      { kind: 'request', ts: 9n },
    ]);
    expect(() => parseControlLines('{"id":"1-0","fields":{"kind":"request","ts":"x"}}', 'in.jsonl')).toThrow(InputError);
    expect(() => parseControlLines('nope', 'in.jsonl')).toThrow(/in\.jsonl.*row 1|row 1.*in\.jsonl/);
  });
});
