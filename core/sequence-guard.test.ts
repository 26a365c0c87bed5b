import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitSeq, initSeqGuard, MAX_MISSING } from './sequence-guard.ts';

describe('sequence guard', () => {
  it('applies in-order events, drops duplicates, applies late ones once', () => {
    const g = initSeqGuard();
    expect([1n, 2n, 4n, 3n, 3n, 4n, 2n, 5n].map((s) => admitSeq(g, s))).toEqual(['next', 'next', 'next', 'late', 'duplicate', 'duplicate', 'duplicate', 'next']);
  });

  it('gives up on gaps larger than MAX_MISSING: stragglers from them are stale', () => {
    const g = initSeqGuard();
    admitSeq(g, 1n);
    admitSeq(g, BigInt(MAX_MISSING) + 10n);
    expect(admitSeq(g, 2n)).toBe('duplicate');
  });

  it('any delivery order of a set with duplicates applies each sequence exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 200 }), (seqs) => {
        const g = initSeqGuard();
        const applied = seqs.filter((s) => admitSeq(g, BigInt(s)) !== 'duplicate');
        expect(new Set(applied).size).toBe(applied.length);
      }),
    );
  });
});
