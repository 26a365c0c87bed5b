/**
 * Cell comparison: when two float64 cells "agree". Exact bits by default: NaN equals NaN,
 * everything else must have the same bits, so -0 vs +0 is a difference (it is a different value to
 * a model that divides). Tolerances: `ulp:N` (at most N representable doubles apart), `abs:X`,
 * `rel:X`. Null (warming up) only equals null.
 */

export type Tolerance = { kind: 'exact' } | { kind: 'ulp'; n: number } | { kind: 'abs'; x: number } | { kind: 'rel'; x: number };

export function parseTolerance(s: string): Tolerance {
  if (s === 'exact') return { kind: 'exact' };
  const m = /^(ulp|abs|rel):(.+)$/.exec(s);
  const x = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(x) || x < 0 || (m[1] === 'ulp' && !Number.isInteger(x))) {
    throw new Error(`invalid tolerance ${JSON.stringify(s)}: use exact, ulp:N, abs:X or rel:X`);
  }
  return m[1] === 'ulp' ? { kind: 'ulp', n: x } : m[1] === 'abs' ? { kind: 'abs', x } : { kind: 'rel', x };
}

/** The tolerance as the user writes it (the report's `tolerance` column). */
export const toleranceName = (t: Tolerance): string => (t.kind === 'exact' ? 'exact' : t.kind === 'ulp' ? `ulp:${t.n}` : `${t.kind}:${t.x}`);

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** Number of representable doubles between a and b (0 when equal bits). */
export function ulpDistance(a: number, b: number): bigint {
  const ord = (x: number) => {
    f64[0] = x;
    const bits = i64[0];
    return bits < 0n ? -0x8000000000000000n - bits : bits;
  };
  const d = ord(a) - ord(b);
  return d < 0n ? -d : d;
}

/** Same float64 value bit for bit, with every NaN equal to every NaN. */
export function sameBits(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  return Object.is(a, b);
}

/** True when a and b agree under the tolerance (nulls only equal nulls). */
export function cellsAgree(a: number | null, b: number | null, t: Tolerance): boolean {
  if (a === null || b === null) return a === b;
  if (sameBits(a, b)) return true;
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (t.kind) {
    case 'exact':
      return false;
    case 'ulp':
      return ulpDistance(a, b) <= BigInt(t.n);
    case 'abs':
      return Math.abs(a - b) <= t.x;
    case 'rel':
      return Math.abs(a - b) <= t.x * Math.max(Math.abs(a), Math.abs(b));
  }
}
