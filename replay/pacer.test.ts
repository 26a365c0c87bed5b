import { describe, expect, it } from 'vitest';
import { Pacer, parseSpeed } from './pacer.ts';

const SEC = 1_000_000_000n;

describe('pacer', () => {
  it('never waits at max speed', () => {
    const p = new Pacer('max', () => 0);
    expect(p.pace(0n)).toBeNull();
    expect(p.pace(100n * SEC)).toBeNull();
  });

  it('at N x real time waits until wall time catches up with event time / N (injected clock)', async () => {
    let now = 1000;
    const p = new Pacer(10, () => now);
    expect(p.pace(5n * SEC)).toBeNull(); // first event sets the origin
    // 10 s of event time at 10x = 1 s of wall time; the clock has not moved: wait ~1000 ms
    const w = p.pace(15n * SEC);
    expect(w).toBeInstanceOf(Promise);
    now = 3000; // already past: no wait
    expect(p.pace(25n * SEC)).toBeNull();
  });

  it('does not pace over history before the start (earlier-dated point-in-time rows)', () => {
    const p = new Pacer(10, () => 0, 100n * SEC);
    expect(p.pace(1n * SEC)).toBeNull(); // a year-old fundamental: handed over at once
    expect(p.pace(100n * SEC)).toBeNull(); // origin
    expect(p.pace(110n * SEC)).toBeInstanceOf(Promise);
  });

  it('parses speeds and refuses nonsense', () => {
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('2.5')).toBe(2.5);
    expect(() => parseSpeed('0')).toThrow(/invalid speed/);
    expect(() => parseSpeed('fast')).toThrow(/invalid speed/);
  });
});
