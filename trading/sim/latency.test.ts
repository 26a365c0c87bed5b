/**
 * The interpolated latency model (latency.ts `tableLatency`, hftbacktest's IntpOrderLatency) on a
 * hand-built table where the right latencies are worked out by hand, and in the simulator: an
 * order reaches the exchange at its interpolated entry latency, its reports come back at the
 * interpolated response latency of when they were made, and the session stays FIFO (a report
 * made later never arrives before one made earlier). A bad table is refused naming row and field.
 */
import { describe, expect, it } from 'vitest';
import { createSimulator, drain, onMarketBatch, submit } from './matcher.ts';
import { entryLatency, maxRoundTrip, responseLatency, tableLatency } from './latency.ts';
import { SimInputError } from './errors.ts';
import { INST, order, row, snapshot } from './test-events.ts';

const b = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));
// entry 100, 300, 100 at requests 1000, 2000, 4000; response 50, 200, 300 at exchange times 1100, 2300, 4100
const T = tableLatency({ req: b([1000, 2000, 4000]), exch: b([1100, 2300, 4100]), resp: b([1150, 2500, 4400]) }, 7n);

describe('interpolated latency', () => {
  it('interpolates between the bracketing rows, flat outside, truncating toward zero', () => {
    expect([500n, 1000n, 1500n, 2000n, 3000n, 4000n, 9000n].map((t) => entryLatency(T, t))).toEqual([100n, 100n, 200n, 300n, 200n, 100n, 100n]);
    // 100 + 200 × 1/1000 = 100.2 and 300 − 200 × 1/2000 = 299.9: the step (0.2, −0.1) is truncated toward zero
    expect([entryLatency(T, 1001n), entryLatency(T, 2001n)]).toEqual([100n, 300n]);
    // response by exchange time: 50 + 150 × 600/1200 = 125
    expect([0n, 1100n, 1700n, 2300n, 3200n, 5000n].map((t) => responseLatency(T, t))).toEqual([50n, 50n, 125n, 200n, 250n, 300n]);
    expect([T.feedNs, T.entryNs, T.responseNs, maxRoundTrip(T)]).toEqual([7n, 100n, 50n, 600n]);
  });

  it('in the simulator: entry and response from the table, reports FIFO', () => {
    // exchange times 1100 and 1200; responses 400 then 10: the second report would overtake the first
    const lat = tableLatency({ req: b([1000, 1100]), exch: b([1100, 1200]), resp: b([1500, 1210]) });
    const sim = createSimulator({ instrument: INST, queueModel: { type: 'risk-averse' }, latency: lat });
    onMarketBatch(sim, snapshot(0n, [[99.99, 100]], [[100.0, 100]]));
    submit(sim, order('A-1', 1, 10, null, 1000n));
    submit(sim, order('B-1', 1, 10, null, 1100n));
    const fills = onMarketBatch(sim, [row(1300n, 1, 99.99, 90)]);
    expect(fills.map((f) => [f.orderId, f.tsEvent, f.tsRecv])).toEqual([['A-1', 1100n, 1500n], ['B-1', 1200n, 1500n]]);
    const reps = drain(sim, 2000n);
    expect(reps.map((r) => [r.type, r.tsEvent, r.tsRecv])).toEqual([['ack', 1100n, 1500n], ['fill', 1100n, 1500n], ['ack', 1200n, 1500n], ['fill', 1200n, 1500n]]);
  });

  it('the same inputs give the same reports (deterministic), and a copy of the state goes on alike', () => {
    const run = (cut: boolean) => {
      let sim = createSimulator({ instrument: INST, queueModel: { type: 'risk-averse' }, latency: T });
      onMarketBatch(sim, snapshot(0n, [[99.99, 100]], [[100.0, 100]]));
      submit(sim, order('A-1', 1, 5, null, 1500n));
      if (cut) sim = structuredClone(sim);
      submit(sim, order('A-2', 1, 5, null, 3000n));
      onMarketBatch(sim, [row(5000n, 1, 99.99, 90)]);
      return drain(sim, 10_000n);
    };
    expect(run(true)).toEqual(run(false));
    expect(run(false).filter((r) => r.type === 'fill').map((r) => [r.tsEvent, r.tsRecv])).toEqual([[1700n, 1825n], [3200n, 3450n]]);
  });

  it('refuses a table it cannot use, naming the row and field', () => {
    const bad = (req: number[], exch: number[], resp: number[]) => () => tableLatency({ req: b(req), exch: b(exch), resp: b(resp) });
    expect(bad([1000], [900], [1000])).toThrow(new SimInputError('latency.table row 1 exch_ts', 900n, 'is before its req_ts 1000 (rejections are not modelled)'));
    expect(bad([1000, 2000], [1100, 2100], [1200, 2000])).toThrow(/row 2 resp_ts.*is before its exch_ts 2100/);
    expect(bad([1000, 1000], [1100, 1100], [1200, 1200])).toThrow(/row 2 req_ts.*must be after the previous row's/);
    expect(bad([1000, 1100], [1500, 1110], [1600, 1200])).toThrow(/row 2 exch_ts.*must not be before the previous row's/);
    expect(bad([], [], [])).toThrow(/at least one row/);
  });
});
