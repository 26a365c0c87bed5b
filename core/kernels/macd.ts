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
import { emaPush, initEma, type Ema } from './ewm.ts';

export interface Macd {
  /** Inputs seen. */
  count: number;
  /** Inputs to skip before feeding the fast EMA: slow - fast. */
  fastDelay: number;
  fast: Ema;
  slow: Ema;
  signal: Ema;
  /** Latest MACD line value (NaN until both EMAs are seeded). */
  line: number;
}

/** MACD(fast, slow, signal); periods are integers, fast and slow >= 2, signal >= 1 (TA-Lib ranges). */
export function initMacd(fast = 12, slow = 26, signal = 9): Macd {
  for (const [name, v, min] of [['fast', fast, 2], ['slow', slow, 2], ['signal', signal, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`MACD ${name} period ${v} must be an integer >= ${min}`);
  }
  if (slow < fast) [fast, slow] = [slow, fast];
  return { count: 0, fastDelay: slow - fast, fast: initEma(fast), slow: initEma(slow), signal: initEma(signal), line: NaN };
}

/** Feeds one input (close). */
export function macdPush(s: Macd, x: number): void {
  const sg = s.signal;
  if (sg.count >= sg.n) {
    // steady state: the three TA-Lib EMA steps inline, same expressions and order as emaPush
    const f = s.fast;
    const sl = s.slow;
    s.count++;
    sl.value = (x - sl.value) * sl.k + sl.value;
    f.value = (x - f.value) * f.k + f.value;
    const line = f.value - sl.value;
    s.line = line;
    sg.value = (line - sg.value) * sg.k + sg.value;
    return;
  }
  s.count++;
  emaPush(s.slow, x);
  if (s.count > s.fastDelay) emaPush(s.fast, x);
  if (s.slow.count >= s.slow.n) {
    s.line = s.fast.value - s.slow.value;
    emaPush(s.signal, s.line);
  }
}

/** True once line, signal and histogram are all defined (TA-Lib's first output). */
export function macdReady(s: Macd): boolean {
  return s.signal.count >= s.signal.n;
}

/** MACD line (fast EMA - slow EMA); null before TA-Lib's first output. */
export function macdLine(s: Macd): number | null {
  return macdReady(s) ? s.line : null;
}

/** Signal line (EMA of the MACD line); null before TA-Lib's first output. */
export function macdSignal(s: Macd): number | null {
  return macdReady(s) ? s.signal.value : null;
}

/** Histogram (line - signal); null before TA-Lib's first output. */
export function macdHist(s: Macd): number | null {
  return macdReady(s) ? s.line - s.signal.value : null;
}
