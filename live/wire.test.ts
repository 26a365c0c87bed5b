/** The input wire format: exact round trips, and one fixed problem reported for a bad entry. */
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { decodeEvent, encodeEvent } from './wire.ts';
import fc from 'fast-check';
import { packValues, packValuesCached, type PackCache } from './worker/index.ts';

const base = { symbol: 'AAPL', seq: 7n, tsEvent: 1_710_511_200_123_456_789n, tsRecv: 1_710_511_200_123_457_000n };
const events: MarketEvent[] = [
  { kind: 'trade', ...base, price: 189.32000000000002, size: 100, side: -1 },
  { kind: 'quote', ...base, bidPx: 0, bidSz: 0, askPx: 5e-324, askSz: 1.5e-7 }, // exponent forms (1e21 and up is implausible: core/plausibility.ts)
  { kind: 'book', ...base, side: 1, price: 0.1 + 0.2, size: 0, snapshot: true, last: false },
  { kind: 'fundamental', ...base, fiscalYear: 2024, fiscalPeriod: 'Q1', eps: NaN, epsTtm: -1.5, bookValuePerShare: 3.25, sharesOutstanding: 15_000_000_000 },
  { kind: 'corporate_action', ...base, action: 'split', tsEx: 1_711_000_000_000_000_001n, ratio: 0.1, amount: NaN },
  { kind: 'corporate_action', ...base, action: 'dividend', tsEx: 1_710_000_000_000_000_000n, ratio: NaN, amount: 0.24 },
  { kind: 'news', ...base, sentiment: -0.75 },
  { kind: 'heartbeat', ...base, symbol: '' },
];

const problem = (flat: string[]) => {
  const d = decodeEvent(flat);
  return d.ok ? null : `${d.problem.field}=${d.problem.value ?? '(missing)'}: ${d.problem.reason}`;
};

describe('wire format', () => {
  it('decodes what it encodes, bit for bit', () => {
    for (const e of events) expect(decodeEvent(encodeEvent(e))).toEqual({ ok: true, event: e });
  });

  it('keeps the sign of -0 (String(-0) would drop it)', () => {
    const e: MarketEvent = { kind: 'news', ...base, sentiment: -0 };
    const d = decodeEvent(encodeEvent(e));
    expect(d.ok && d.event.kind === 'news' && Object.is(d.event.sentiment, -0)).toBe(true);
    expect(packValues([-0, 0, null, 1.5])).toBe('-0,0,,1.5');
  });

  it('takes the last of a repeated field and ignores unknown ones', () => {
    const flat = [...encodeEvent(events[0]), 'p', '190.5', 'zz', 'ignored', 'dangling'];
    expect(decodeEvent(flat)).toEqual({ ok: true, event: { ...events[0], price: 190.5 } });
  });

  it('reports one problem per bad entry, checked in a fixed order', () => {
    const trade = encodeEvent(events[0]);
    const without = (f: string) => trade.filter((_, i) => trade[i - (i % 2)] !== f);
    const set = (f: string, v: string) => trade.map((x, i) => (i % 2 === 1 && trade[i - 1] === f ? v : x));
    expect(problem(without('k'))).toBe('k=(missing): missing field');
    expect(problem(set('k', 'alien'))).toBe('k=alien: unknown kind');
    expect(problem(without('te').filter((_, i, a) => a[i - (i % 2)] !== 'p'))).toBe('te=(missing): missing field');
    expect(problem(set('tr', '1.5'))).toBe('tr=1.5: not an integer');
    expect(problem(set('q', '9223372036854775808'))).toBe('q=9223372036854775808: outside int64');
    expect(problem(set('p', ' '))).toBe('p= : not a number');
    expect(problem(set('p', 'abc'))).toBe('p=abc: not a number');
    expect(problem(set('p', 'NaN'))).toBe('price=NaN: must be a finite number > 0');
    expect(problem(set('p', '-5'))).toBe('price=-5: must be a finite number > 0');
    expect(problem(set('d', '2'))).toBe('side=2: must be 1, -1 or 0');
    const split = encodeEvent(events[4]);
    const setSplit = (f: string, v: string) => split.map((x, i) => (i % 2 === 1 && split[i - 1] === f ? v : x));
    expect(problem(setSplit('tx', '17e17'))).toBe('tx=17e17: not an integer');
    expect(problem(setSplit('ca', 'merger'))).toBe("action=merger: must be 'split' or 'dividend'");
    expect(problem(setSplit('r', '0'))).toBe('ratio=0: must be a finite number > 0');
    expect(problem(setSplit('r', '1e9'))).toBe('ratio=1000000000: must be a split ratio in [1/10000, 10000] (new shares per old share)');
    expect(problem(setSplit('am', '2'))).toBe('amount=2: must be null for a split');
    const book = encodeEvent(events[2]);
    expect(problem(book.map((x, i) => (i % 2 === 1 && book[i - 1] === 'n' ? 'yes' : x)))).toBe('n=yes: must be 0 or 1');
  });

  it('packing with the per-symbol text cache gives exactly what packing afresh gives, row after row', () => {
    const value = fc.oneof(fc.constantFrom(null, 0, -0, NaN, 1.5, Infinity, -Infinity, 5e-324), fc.double());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { maxLength: 30 }), (width, rows) => {
        const cache: PackCache = { last: [], text: [] };
        let prev: (number | null)[] = Array(width).fill(null);
        for (const r of rows) {
          // mostly repeat the previous row's values, as consecutive rows of a symbol do
          const row = r.slice(0, width).map((x, i) => (i % 2 === 0 ? prev[i] : x));
          expect(packValuesCached(row, cache)).toBe(packValues(row));
          prev = row;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('wire format: field names and integers', () => {
  const NAMES = ['k', 's', 'q', 'te', 'tr', 'p', 'z', 'd', 'bp', 'bz', 'ap', 'az', 'n', 'l', 'fy', 'fp', 'e', 'et', 'bv', 'so', 'st', 'ca', 'tx', 'r', 'am'];
  const good = { k: 'trade', s: 'AAPL', q: '7', te: '1710511200123456789', tr: '1710511200123457000', p: '1.5', z: '100', d: '1' };

  it('reads exactly the known field names, the last of a repeated one; ignores any other name', () => {
    // names that share characters or codes with known ones must not be taken for them
    const name = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 3 }), fc.constantFrom('\0k', '\0', 'tee', 'T', 'te ', '`\u1465', 'k\0', '\u0074\u0065'));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.constantFrom('1', '2', 'x', 'trade', 'quote', ''))), (extra) => {
        const flat = [...Object.entries(good).flat(), ...extra.flat()];
        // reference: the last value of each known name, by exact string comparison
        const last = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) if (NAMES.includes(flat[i])) last.set(flat[i], flat[i + 1]);
        expect(decodeEvent(flat)).toEqual(decodeEvent([...last].flat()));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes as an integer exactly what /^-?\\d{1,19}$/ matches', () => {
    const re = /^-?\d{1,19}$/;
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '9', '-', ' ', 'a', '٣', '+'), maxLength: 22 });
    fc.assert(
      fc.property(fc.oneof(digits, fc.string({ maxLength: 21 }), fc.constantFrom('12345678901234567890', '-12345678901234567890', '', '-', '-0', '0000000000000000001', '1\n'), fc.stringMatching(/^-?\d{18,21}$/), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)), (q) => {
        const d = decodeEvent(Object.entries({ ...good, q }).flat());
        const notInt = !d.ok && d.problem.field === 'q' && d.problem.reason === 'not an integer';
        expect(notInt).toBe(!re.test(q));
      }),
      { numRuns: 5000 },
    );
  });
});
