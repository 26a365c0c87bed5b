/**
 * Test oracle: batch transliterations of TA-Lib's C loops (ta_EMA.c TA_INT_EMA, ta_RSI.c TA_RSI,
 * ta_MACD.c TA_INT_MACD; default compatibility, unstable period 0), statement by statement, so the
 * streaming kernels can be checked against TA-Lib's arithmetic on any input, not only on the
 * committed reference series. Not used by factors.
 */

export interface TaOutput {
  begIdx: number;
  values: number[];
}

/** TA_INT_EMA(startIdx, endIdx = n-1) with k = 2/(period+1); lookback = period - 1. */
export function taEma(inReal: ArrayLike<number>, period: number, startIdx = 0, k = 2.0 / (period + 1)): TaOutput {
  const endIdx = inReal.length - 1;
  const lookbackTotal = period - 1;
  if (startIdx < lookbackTotal) startIdx = lookbackTotal;
  if (startIdx > endIdx) return { begIdx: 0, values: [] };
  let today = startIdx - lookbackTotal;
  let i = period;
  let tempReal = 0.0;
  while (i-- > 0) tempReal += inReal[today++];
  let prevMA = tempReal / period;
  while (today <= startIdx) prevMA = (inReal[today++] - prevMA) * k + prevMA;
  const out = [prevMA];
  while (today <= endIdx) {
    prevMA = (inReal[today++] - prevMA) * k + prevMA;
    out.push(prevMA);
  }
  return { begIdx: startIdx, values: out };
}

/** TA_RSI over the whole input; lookback = period; `eps` is TA_EPSILON of TA_IS_ZERO. */
export function taRsi(inReal: ArrayLike<number>, period: number, eps = 1e-14): TaOutput {
  const endIdx = inReal.length - 1;
  const startIdx = period;
  if (startIdx > endIdx) return { begIdx: 0, values: [] };
  const out: number[] = [];
  let today = 0;
  let prevValue = inReal[today];
  let prevGain = 0.0;
  let prevLoss = 0.0;
  today++;
  for (let i = period; i > 0; i--) {
    const v1 = inReal[today++];
    const v2 = v1 - prevValue;
    prevValue = v1;
    if (v2 < 0) prevLoss -= v2;
    else prevGain += v2;
  }
  prevLoss /= period;
  prevGain /= period;
  const emit = () => {
    const s = prevGain + prevLoss;
    out.push(!(-eps < s && s < eps) ? 100.0 * (prevGain / s) : 0.0);
  };
  emit();
  while (today <= endIdx) {
    const v1 = inReal[today++];
    const v2 = v1 - prevValue;
    prevValue = v1;
    prevLoss *= period - 1;
    prevGain *= period - 1;
    if (v2 < 0) prevLoss -= v2;
    else prevGain += v2;
    prevLoss /= period;
    prevGain /= period;
    emit();
  }
  return { begIdx: startIdx, values: out };
}

/** TA_INT_MACD over the whole input; lookback = (slow - 1) + (signal - 1). */
export function taMacd(
  inReal: ArrayLike<number>,
  fast = 12,
  slow = 26,
  signal = 9,
): { begIdx: number; line: number[]; signal: number[]; hist: number[] } {
  if (slow < fast) [fast, slow] = [slow, fast];
  const lookbackSignal = signal - 1;
  const startIdx = lookbackSignal + (slow - 1);
  const endIdx = inReal.length - 1;
  if (startIdx > endIdx) return { begIdx: 0, line: [], signal: [], hist: [] };
  const from = startIdx - lookbackSignal;
  const slowEma = taEma(inReal, slow, from).values;
  const fastEma = taEma(inReal, fast, from).values;
  const diff = fastEma.map((f, i) => f - slowEma[i]);
  const line = diff.slice(lookbackSignal);
  const sig = taEma(diff, signal, 0).values;
  return { begIdx: startIdx, line, signal: sig, hist: line.map((m, i) => m - sig[i]) };
}
