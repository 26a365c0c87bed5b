import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitSeq, initSeqGuard, MAX_MISSING, type SeqGuard } from './sequence-guard.ts';

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

describe('sequence guard restored from a state saved without the halves', () => {
  it('classifies every later event as a fresh guard does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 2, maxLength: 200 }), fc.nat(), (seqs, cut) => {
        const at = cut % seqs.length;
        const fresh = initSeqGuard();
        const old = initSeqGuard();
        const a = seqs.slice(0, at).map((s) => admitSeq(fresh, BigInt(s)));
        const b = seqs.slice(0, at).map((s) => admitSeq(old, BigInt(s)));
        // what an earlier version's snapshot holds: last and missing only
        const restored = { last: old.last, missing: [...old.missing] } as SeqGuard;
        a.push(...seqs.slice(at).map((s) => admitSeq(fresh, BigInt(s))));
        b.push(...seqs.slice(at).map((s) => admitSeq(restored, BigInt(s))));
        expect(b).toEqual(a);
      }),
    );
  });
});
