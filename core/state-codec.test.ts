import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneState, decodeState, encodeState, fnv1a64, hashState, stateFromJson, stateToJson } from './state-codec.ts';

function fnvReference(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

describe('state codec', () => {
  it('round-trips awkward numbers bit for bit', () => {
    const v = { a: [NaN, -0, 0, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1 + 0.2], b: 2n ** 70n, c: -5n, s: 'µ€', n: null, u: undefined, t: true };
    const back = decodeState<typeof v>(encodeState(v));
    expect(Object.is(back.a[1], -0)).toBe(true);
    expect(back.a.map(String)).toEqual(v.a.map(String));
    expect(back.b).toBe(v.b);
    expect(back).toEqual(v);
  });

  it('round-trips maps and typed arrays', () => {
    const v = { m: new Map<string, unknown>([['x', new Float64Array([1.5, NaN])], ['y', new BigInt64Array([2n ** 62n])]]), i: new Int32Array([1, -2]) };
    const back = cloneState(v);
    expect(back.m.get('x')).toEqual(new Float64Array([1.5, NaN]));
    expect(back.m.get('y')).toEqual(new BigInt64Array([2n ** 62n]));
    expect(back.i).toEqual(new Int32Array([1, -2]));
  });

  it('JSON form round-trips and hashes are stable', () => {
    const v = { x: [1, 2, 3], y: 'a' };
    expect(stateFromJson(stateToJson(v))).toEqual(v);
    expect(hashState(v)).toBe(hashState(cloneState(v)));
    expect(hashState(v)).not.toBe(hashState({ x: [1, 2, 4], y: 'a' }));
  });

  it('refuses non-plain data', () => {
    expect(() => encodeState({ d: new Date(0) })).toThrow(/not plain data/);
    expect(() => encodeState({ f: () => 1 })).toThrow(/not plain data/);
  });

  it('fnv1a64 equals a BigInt reference implementation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(fnv1a64(b)).toBe(fnvReference(b));
      }),
    );
    expect(fnv1a64(new Uint8Array())).toBe('cbf29ce484222325');
  });

  it('keeps a key named __proto__ as data (no prototype change)', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Record<string, unknown>;
    const back = decodeState<Record<string, unknown>>(encodeState(v));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'a']);
    expect((back as { x?: number }).x).toBeUndefined();
  });

  it('any JSON-like value round-trips', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(decodeState(encodeState(v))).toEqual(v);
      }),
    );
  });
});
