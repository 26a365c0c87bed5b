import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceMark, enqueue, initMerge, nextReady } from './watermark-merge.ts';

type It = { ts: bigint; s: number; i: number };
const retime = (x: It, ts: bigint): It => ({ ...x, ts });

/** Delivers each stream's items (and a final watermark) in the interleaving `order`; returns what comes out. */
function run(streams: bigint[][], order: number[], strictLast: boolean): string[] {
  const st = initMerge<It>(streams.length);
  const pos = streams.map(() => 0);
  const out: string[] = [];
  const drain = () => {
    for (let x = nextReady(st, null, () => strictLast); x !== null; x = nextReady(st, null, () => strictLast)) out.push(`${x.s}:${x.i}@${x.ts}`);
  };
  for (const s of order) {
    if (pos[s] < streams[s].length) enqueue(st, s, { ts: streams[s][pos[s]], s, i: pos[s]++ }, retime);
    else advanceMark(st, s, 1000n);
    drain();
  }
  for (let s = 0; s < streams.length; s++) {
    while (pos[s] < streams[s].length) enqueue(st, s, { ts: streams[s][pos[s]], s, i: pos[s]++ }, retime);
    advanceMark(st, s, 1000n);
  }
  drain();
  return out;
}

describe('watermark merge', () => {
  it('gives the same sequence whatever the interleaving (all strict), or the same up to the order of one instant across streams', () => {
    const stream = fc.array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(stream, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 60 }), fc.boolean(), (streams, a, b, strict) => {
        const k = streams.length;
        const ref = run(streams, [], strict);
        const canon = (o: string[]) => (strict ? o : o.map((x) => `${x.split('@')[1].padStart(4, '0')} ${x}`).sort());
        for (const order of [a, b]) {
          const got = run(streams, order.map((x) => x % k), strict);
          expect(canon(got)).toEqual(canon(ref));
          // time order, and each stream's own order
          const ts = got.map((x) => BigInt(x.split('@')[1]));
          for (let i = 1; i < ts.length; i++) expect(ts[i] >= ts[i - 1]).toBe(true);
          for (let s = 0; s < k; s++) expect(got.filter((x) => x.startsWith(`${s}:`))).toEqual(ref.filter((x) => x.startsWith(`${s}:`)));
        }
        expect(ref).toHaveLength(streams.reduce((n, s) => n + s.length, 0));
      }),
    );
  });
  it('a strict stream item at T waits until every stream has passed T; at one instant the other streams go first', () => {
    const st = initMerge<It>(2);
    enqueue(st, 1, { ts: 5n, s: 1, i: 0 }, retime);
    advanceMark(st, 0, 5n);
    expect(nextReady(st, null, (s) => s === 1)).toBeNull();
    enqueue(st, 0, { ts: 5n, s: 0, i: 0 }, retime);
    expect(nextReady(st, null, (s) => s === 1)?.s).toBe(0);
    expect(nextReady(st, null, (s) => s === 1)).toBeNull();
    advanceMark(st, 0, 6n);
    expect(nextReady(st, null, (s) => s === 1)?.s).toBe(1);
  });
});
