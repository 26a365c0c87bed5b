/**
 * MACD exactly as TA-Lib's TA_MACD (ta_MACD.c, TA_INT_MACD) with default compatibility:
 * - fast and slow EMAs use TA_EMA arithmetic (ewm.ts) with k = 2/(period+1); if slow < fast the
 *   periods are swapped, as TA-Lib does;
 * - both EMAs produce their first value at the same input index, slow - 1: the fast EMA is seeded
 *   late, with the average of inputs [slow - fast, slow - 1], not of the first `fast` inputs
 *   (TA-Lib runs INT_EMA for both from startIdx - lookbackSignal);
 * - line = fastEMA - slowEMA; signal = EMA(signal period) of the line, seeded by the simple average
 *   of its first `signal` values; histogram = line - signal.
 * All three outputs start together at input index (slow - 1) + (signal - 1) = 33 for 12/26/9 and
 * are null before (TA-Lib's lookback).
 */
/**
 * Plain-data MACD state, flat: the three EMAs' fields live on this one object (fast*, slow*,
 * signal*) rather than in three nested Ema objects, so the steady-state update is three
 * multiply-adds on one object's fields (the nested form cost ~30% more per update here). Each
 * EMA follows ewm.ts's TA_EMA arithmetic exactly: while warming up `*Value` is the running sum of
 * inputs, divided by the period when `*Count` reaches it.
 */
export interface Macd {
  /** Inputs seen. */
  count: number;
  /** Inputs to skip before feeding the fast EMA: slow - fast. */
  fastDelay: number;
  fastN: number;
  fastK: number;
  fastCount: number;
  fastValue: number;
  slowN: number;
  slowK: number;
  slowCount: number;
  slowValue: number;
  signalN: number;
  signalK: number;
  signalCount: number;
  signalValue: number;
  /** Latest MACD line value (NaN until both EMAs are seeded). */
  line: number;
}

export function initMacd(fast = 12, slow = 26, signal = 9): Macd {
  for (const [name, v, min] of [['fast', fast, 2], ['slow', slow, 2], ['signal', signal, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`MACD ${name} period ${v} must be an integer >= ${min}`);
  }
  if (slow < fast) [fast, slow] = [slow, fast];
  // k as in initEma (TA-Lib PER_TO_K)
  return {
    count: 0,
    fastDelay: slow - fast,
    fastN: fast,
    fastK: 2.0 / (fast + 1),
    fastCount: 0,
    fastValue: 0,
    slowN: slow,
    slowK: 2.0 / (slow + 1),
    slowCount: 0,
    slowValue: 0,
    signalN: signal,
    signalK: 2.0 / (signal + 1),
    signalCount: 0,
    signalValue: 0,
    line: NaN,
  };
}

/** Feeds one input (a closed bar's close). */
export function macdPush(s: Macd, x: number): void {
  if (s.signalCount >= s.signalN) {
    // steady state: the three TA_EMA steps, same expressions and order as emaPush
    s.count++;
    const slow = (x - s.slowValue) * s.slowK + s.slowValue;
    s.slowValue = slow;
    const fast = (x - s.fastValue) * s.fastK + s.fastValue;
    s.fastValue = fast;
    const line = fast - slow;
    s.line = line;
    s.signalValue = (line - s.signalValue) * s.signalK + s.signalValue;
    return;
  }
  s.count++;
  // warm-up: emaPush written out per EMA (an Ema object per EMA would bring the nesting back)
  if (s.slowCount >= s.slowN) s.slowValue = (x - s.slowValue) * s.slowK + s.slowValue;
  else {
    s.slowValue += x;
    if (++s.slowCount === s.slowN) s.slowValue /= s.slowN;
  }
  if (s.count > s.fastDelay) {
    if (s.fastCount >= s.fastN) s.fastValue = (x - s.fastValue) * s.fastK + s.fastValue;
    else {
      s.fastValue += x;
      if (++s.fastCount === s.fastN) s.fastValue /= s.fastN;
    }
  }
  if (s.slowCount >= s.slowN) {
    const line = s.fastValue - s.slowValue;
    s.line = line;
    if (s.signalCount >= s.signalN) s.signalValue = (line - s.signalValue) * s.signalK + s.signalValue;
    else {
      s.signalValue += line;
      if (++s.signalCount === s.signalN) s.signalValue /= s.signalN;
    }
  }
}

/** True once all three outputs exist (input index slow + signal - 2 onwards). */
export function macdReady(s: Macd): boolean {
  return s.signalCount >= s.signalN;
}

/** MACD line (fast EMA - slow EMA); null before the first signal value. */
export function macdLine(s: Macd): number | null {
  return s.signalCount >= s.signalN ? s.line : null;
}

/** Signal line (EMA of the MACD line); null during warm-up. */
export function macdSignal(s: Macd): number | null {
  return s.signalCount >= s.signalN ? s.signalValue : null;
}

/** Histogram (line - signal); null during warm-up. */
export function macdHist(s: Macd): number | null {
  return s.signalCount >= s.signalN ? s.line - s.signalValue : null;
}
