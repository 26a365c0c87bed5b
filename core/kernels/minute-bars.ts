/**
 * One-minute OHLCV bars built from trades in event time.
 *
 * A trade at time t (epoch ns) belongs to minute floor(t / 60e9). The kernel keeps a clock: the
 * latest minute seen by any event handed in, trade or not. A bar closes when the first event of a
 * later minute arrives, whether a trade (`onTrade`) or any other event passed to `advanceClock`
 * (typically a heartbeat): bar closes are timers in event time, never wall-clock timers, so live
 * reproduces replay. Minutes without trades produce no bar. When `onTrade` or `advanceClock`
 * returns true, the closed bar is in the state's `closeMinute`, `open`, `high`, `low`, `close`,
 * `volume`, `buyVolume`, `sellVolume`, `count` and `vwapNumerator` fields until the next close.
 *
 * Late-trade policy: a trade whose minute is earlier than the clock's minute (its bar has already
 * closed, or never existed) does not reopen or rewrite history. Its size, count, buy/sell volume
 * and price·size go into the OPEN bar (which belongs to the clock's minute); its price does not
 * touch that bar's open/high/low/close. If no bar is open (the clock moved on and no trade of the
 * new minute has arrived yet) the late amounts are held and added to the next bar that opens.
 * `lateTrades` counts such trades.
 *
 * Cost: a trade within the current minute does no bigint arithmetic (one comparison against the
 * cached minute end); the minute division happens once per new minute.
 */

export const MINUTE_NS = 60_000_000_000n;

/** Earliest representable time: the clock before the first event. */
const NO_TIME = -0x8000000000000000n;

export interface MinuteBars {
  /** Clock minute as [clockStart, clockEnd) in epoch ns. */
  clockStart: bigint;
  clockEnd: bigint;
  /** True while a bar for the clock minute is being built. */
  barOpen: boolean;
  curOpen: number;
  curHigh: number;
  curLow: number;
  curClose: number;
  curVolume: number;
  curBuyVolume: number;
  curSellVolume: number;
  curCount: number;
  curVwapNumerator: number;
  /** Late amounts waiting for the next bar (see the late-trade policy). */
  pendVolume: number;
  pendBuyVolume: number;
  pendSellVolume: number;
  pendCount: number;
  pendVwapNumerator: number;
  /** Last closed bar: minute index floor(t / 60e9), -1n before the first close. */
  closeMinute: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  count: number;
  /** Σ price · size over the bar's trades (VWAP = vwapNumerator / volume). */
  vwapNumerator: number;
  barsClosed: number;
  lateTrades: number;
}

/** No bar open, clock before any event; the closed-bar fields are NaN/0 until the first close. */
export function initMinuteBars(): MinuteBars {
  return {
    clockStart: NO_TIME,
    clockEnd: NO_TIME,
    barOpen: false,
    curOpen: NaN,
    curHigh: NaN,
    curLow: NaN,
    curClose: NaN,
    curVolume: 0,
    curBuyVolume: 0,
    curSellVolume: 0,
    curCount: 0,
    curVwapNumerator: 0,
    pendVolume: 0,
    pendBuyVolume: 0,
    pendSellVolume: 0,
    pendCount: 0,
    pendVwapNumerator: 0,
    closeMinute: -1n,
    open: NaN,
    high: NaN,
    low: NaN,
    close: NaN,
    volume: 0,
    buyVolume: 0,
    sellVolume: 0,
    count: 0,
    vwapNumerator: 0,
    barsClosed: 0,
    lateTrades: 0,
  };
}

/** floor(t / 60e9) for any sign of t (bigint division truncates toward zero). */
export function minuteOf(t: bigint): bigint {
  const q = t / MINUTE_NS;
  return t < 0n && q * MINUTE_NS !== t ? q - 1n : q;
}

function closeBar(s: MinuteBars): boolean {
  if (!s.barOpen) return false;
  s.closeMinute = minuteOf(s.clockStart);
  s.open = s.curOpen;
  s.high = s.curHigh;
  s.low = s.curLow;
  s.close = s.curClose;
  s.volume = s.curVolume;
  s.buyVolume = s.curBuyVolume;
  s.sellVolume = s.curSellVolume;
  s.count = s.curCount;
  s.vwapNumerator = s.curVwapNumerator;
  s.barOpen = false;
  s.barsClosed++;
  return true;
}

function moveClock(s: MinuteBars, t: bigint): void {
  s.clockStart = minuteOf(t) * MINUTE_NS;
  s.clockEnd = s.clockStart + MINUTE_NS;
}

/**
 * Moves the clock to event time `t`. Returns true when this closed the open bar (t is in a later
 * minute than the bar); the closed bar is then readable from the state. Earlier times are ignored.
 */
export function advanceClock(s: MinuteBars, t: bigint): boolean {
  if (t < s.clockEnd) return false;
  const closed = closeBar(s);
  moveClock(s, t);
  return closed;
}

/**
 * Applies a trade at event time `t` (price, size, aggressor side 1 buy / -1 sell / 0 unknown).
 * Returns true when it closed the previous bar (it is the first event of a later minute); the
 * trade itself then opens the new bar. See the file comment for late trades.
 */
export function onTrade(s: MinuteBars, t: bigint, price: number, size: number, side: number): boolean {
  let closed = false;
  if (t >= s.clockEnd) {
    closed = closeBar(s);
    moveClock(s, t);
  }
  const pv = price * size;
  if (t < s.clockStart) {
    s.lateTrades++;
    if (s.barOpen) {
      s.curVolume += size;
      s.curCount++;
      s.curVwapNumerator += pv;
      if (side > 0) s.curBuyVolume += size;
      else if (side < 0) s.curSellVolume += size;
    } else {
      s.pendVolume += size;
      s.pendCount++;
      s.pendVwapNumerator += pv;
      if (side > 0) s.pendBuyVolume += size;
      else if (side < 0) s.pendSellVolume += size;
    }
    return closed;
  }
  if (!s.barOpen) {
    s.barOpen = true;
    s.curOpen = s.curHigh = s.curLow = price;
    s.curVolume = s.pendVolume;
    s.curBuyVolume = s.pendBuyVolume;
    s.curSellVolume = s.pendSellVolume;
    s.curCount = s.pendCount;
    s.curVwapNumerator = s.pendVwapNumerator;
    s.pendVolume = s.pendBuyVolume = s.pendSellVolume = s.pendCount = s.pendVwapNumerator = 0;
  } else {
    if (price > s.curHigh) s.curHigh = price;
    if (price < s.curLow) s.curLow = price;
  }
  s.curClose = price;
  s.curVolume += size;
  s.curCount++;
  s.curVwapNumerator += pv;
  if (side > 0) s.curBuyVolume += size;
  else if (side < 0) s.curSellVolume += size;
  return closed;
}

/** VWAP of the last closed bar; null before the first close or when its volume is 0. */
export function closedBarVwap(s: MinuteBars): number | null {
  return s.barsClosed > 0 && s.volume > 0 ? s.vwapNumerator / s.volume : null;
}

/** Start of the last closed bar's minute in epoch ns; null before the first close. */
export function closedBarStartNs(s: MinuteBars): bigint | null {
  return s.barsClosed > 0 ? s.closeMinute * MINUTE_NS : null;
}
