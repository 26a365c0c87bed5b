import { describe, expect, it } from 'vitest';
import { createSimulator } from './matcher.ts';
import { constantLatency, ZERO_LATENCY, type Latency } from './latency.ts';
import { createSession, feed, finish, type AlgoInput } from './session.ts';
import { INST, order, row, snapshot, trade } from './test-events.ts';
import type { OrderAction } from '../types.ts';

/** An algorithm that buys 150 at market on the first trade it reads, and logs what it reads. */
function buyer(log: string[]) {
  let sent = false;
  return (inp: AlgoInput): OrderAction[] => {
    log.push(inp.kind === 'market' ? `${inp.at} market ${inp.ev.kind}` : `${inp.at} ${inp.report.type}${inp.report.type === 'fill' ? ` ${inp.report.fill.qty}@${inp.report.fill.price}` : ''}`);
    if (!sent && inp.kind === 'market' && inp.ev.kind === 'trade') {
      sent = true;
      return [{ type: 'new', order: order('A-1', 1, 150, null, inp.at) }];
    }
    return [];
  };
}

function run(lat: Latency): string[] {
  const log: string[] = [];
  const s = createSession(createSimulator({ instrument: INST, queueModel: { type: 'risk-averse' }, latency: lat }), buyer(log));
  for (const ev of [...snapshot(1000n, [[99.99, 100]], [[100.0, 100], [100.01, 100]]), trade(2000n, 100.0, 1, 1), row(2000n, -1, 100.0, 0), row(2005n, -1, 100.02, 500), trade(3000n, 100.02, 1, 1)]) feed(s, ev);
  finish(s, 10_000n);
  return log;
}

describe('session: the exchange and the algorithm on one clock', () => {
  it('zero latency: the algorithm reads each event right after the exchange; its order acts before the next event', () => {
    const log = run(ZERO_LATENCY);
    expect(log.slice(2)).toEqual([
      '1000 market book',
      '2000 market trade',
      // the order decided at 2000 took effect at once, before the ask level at 100.00 left
      '2000 ack',
      '2000 fill 100@10000',
      '2000 fill 50@10001',
      '2000 market book',
      '2005 market book',
      '3000 market trade',
    ]);
  });

  it('feed, entry and response latency each shift the algorithm\'s view, its order and the fill report', () => {
    const log = run(constantLatency({ feedNs: 3n, entryNs: 4n, responseNs: 5n }));
    // sees the trade at 2003, its order reaches the exchange at 2007: 100.00 is gone (2000) and
    // 100.02 has 500 (2005), so it buys 100 at 100.01 and 50 at 100.02; the reports arrive at 2012
    expect(log.filter((l) => !l.includes('market book'))).toEqual(['2003 market trade', '2012 ack', '2012 fill 100@10001', '2012 fill 50@10002', '3003 market trade']);
  });
});
