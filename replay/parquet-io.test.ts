/** Building Arrow validity bits from the factor table's one-byte-per-row flags. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validityBitmap } from './parquet-io.ts';

/** The obvious bit-at-a-time version the packed loop must equal. */
function naive(valid: Uint8Array, n: number): { bitmap?: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i] === 0) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return nullCount === 0 ? { nullCount } : { bitmap, nullCount };
}

describe('validityBitmap', () => {
  it('equals the bit-at-a-time build for any flags and length (non-zero bytes count as valid)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(8), (flags, cut) => {
        const n = Math.max(0, flags.length - cut);
        expect(validityBitmap(flags, n)).toEqual(naive(flags, n));
      }),
      { numRuns: 500 },
    );
  });

  it('all valid: no bitmap; all null: zero bits', () => {
    expect(validityBitmap(new Uint8Array(13).fill(1), 13)).toEqual({ nullCount: 0 });
    expect(validityBitmap(new Uint8Array(13), 13)).toEqual({ bitmap: new Uint8Array(2), nullCount: 13 });
  });
});
