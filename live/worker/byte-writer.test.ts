/**
 * The worker's byte-level row and argument writing: every byte equal to what the string it
 * replaces would have been on the wire (UTF-8), numbers' digits equal to String(x).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../core/events.ts';
import { ByteWriter, RespWriter, utf8Length } from './byte-writer.ts';
import { encodeRow, newRowCache, writeRow } from './row-format.ts';

const text = (w: ByteWriter) => w.buf.subarray(0, w.len);

describe('ByteWriter', () => {
  it('writes integers as String(n) does, up to 2^53', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, 9, 10, 99, 100, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 9_007_199_254_740_990, 999_999_999_999_999)), (n) => {
        const w = new ByteWriter(4);
        w.int(n);
        expect(text(w).toString('latin1')).toBe(String(n));
      }),
      { numRuns: 5000 },
    );
  });

  it('writes bigints as String(b) does, over int64 and beyond', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }), fc.bigInt()), (b) => {
        const w = new ByteWriter(4);
        w.bigint(b);
        expect(text(w).toString('latin1')).toBe(String(b));
      }),
      { numRuns: 5000 },
    );
  });

  it('writes strings as their UTF-8 bytes, short and long, ASCII or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ minLength: 60, maxLength: 300 })), (s) => {
        const w = new RespWriter(8);
        w.byte(0x21);
        w.str(s);
        w.bulkStr(s);
        expect(Buffer.compare(text(w), Buffer.concat([Buffer.from('!'), Buffer.from(s), Buffer.from(`$${Buffer.byteLength(s)}\r\n${s}\r\n`)]))).toBe(0);
        expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      }),
      { numRuns: 3000 },
    );
  });
});

const value = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 5e-324, 1e21, 0.1 + 0.2) },
);

describe('writeRow', () => {
  it('writes each row as encodeRow would, whatever changed since the previous row of its cache', () => {
    const ev = (seq: bigint, te: bigint): MarketEvent => ({ kind: 'trade', symbol: 'SYM1', seq, tsEvent: te, tsRecv: te + 1n, price: 1, size: 1, side: 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 12 })),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        (rows, keep, te) => {
          const cache = newRowCache();
          const w = new ByteWriter(16);
          // most columns repeat the previous row's value (as factors do): the cached bytes are used
          let prev: (number | null)[] | null = null;
          for (const [k, r] of rows.entries()) {
            const vals: (number | null)[] = prev !== null && prev.length === r.length ? r.map((x, i) => (keep[k] > 0 && i % (keep[k] + 1) !== 0 ? prev![i] : x)) : r;
            w.len = 0;
            const e = ev(BigInt(k), te);
            writeRow(w, 'SYM1', e, `${k}-0`, vals, cache);
            expect(text(w).toString('utf8')).toBe(encodeRow('SYM1', e, `${k}-0`, vals));
            expect(cache.text.join(',')).toBe(encodeRow('SYM1', e, `${k}-0`, vals).split('|')[6]);
            prev = vals;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps up when a symbol gains columns, and writes non-ASCII symbols as UTF-8', () => {
    const cache = newRowCache();
    const w = new ByteWriter(4);
    const e: MarketEvent = { kind: 'news', symbol: 'É', seq: -3n, tsEvent: 2n ** 62n, tsRecv: 0n, sentiment: 0 };
    for (const vals of [[1, null], [1, null, -0], [2, null, -0], [2]]) {
      w.len = 0;
      writeRow(w, 'Ü/ß', e, '1-1', vals, cache);
      expect(text(w).toString('utf8')).toBe(encodeRow('Ü/ß', e, '1-1', vals));
    }
  });
});
