/**
 * Lockstep's core: the factor contract, the fold that runs a set of factors over events, the
 * registry of default factors, the event types and the errors. Everything here is pure and runs
 * the same in replay and live mode.
 *
 * ```ts
 * import { defineFactor, DEFAULT_FACTORS } from 'lockstep';
 * import { runReplay } from 'lockstep/replay';
 * ```
 *
 * Replay over Parquet catalogs is in `lockstep/replay`, live serving over Redis Streams in
 * `lockstep/live`, and the parity harness in `lockstep/parity`.
 *
 * @packageDocumentation
 * @module lockstep
 */

// The factor contract
export { defineFactor, withParams } from './core/factor.ts';
export type { AnyFactor, DeriveSpec, Factor, FactorSpec, ParamRule, ParamValue, Params } from './core/factor.ts';
export { defineDerivation } from './core/derivation.ts';
export type { Derivation } from './core/derivation.ts';
export { barsFor, defineBarFactor, minuteBars } from './core/factors/bar-factor.ts';
export type { BarFactorSpec, BarSession, BarState, SessionBars } from './core/factors/bar-factor.ts';
export { orderBook } from './core/factors/depth-imbalance.ts';
export { newsFlow, tradeFlow } from './core/factors/flow-windows.ts';
// The contract checks `lockstep factors check` runs (for your own factors, from code)
export { checkContract, contractStreams, FactorContractError } from './core/contract/checks.ts';
export type { ContractReport } from './core/contract/checks.ts';

// The fold
export { applyEvent, createFactorSet, initFold } from './core/fold.ts';
export type { FactorSet, FactorSetOptions, FoldState, FoldStats, RowSink, SessionTable, SymbolState } from './core/fold.ts';
export { parseSessionTable, sessionTableJson } from './core/session-table.ts';
export type { SeqVerdict } from './core/sequence-guard.ts';

// The registry
export { DEFAULT_FACTORS, defaultFactorSet, factorCodeHash, factorManifest, featureSetVersion, withFactorParams } from './core/registry.ts';
export type { FactorManifestEntry } from './core/registry.ts';

// Events
export { compareEvents, CORPORATE_ACTION_TYPES, isKind, KINDS, REFERENCE_KINDS, SOURCE_PRIORITY } from './core/events.ts';
export type { BookEvent, CorporateActionEvent, CorporateActionType, FundamentalEvent, HeartbeatEvent, Kind, MarketEvent, NewsEvent, QuoteEvent, Side, TradeEvent } from './core/events.ts';
export { validateEvent } from './core/validate-event.ts';
export type { EventProblem } from './core/validate-event.ts';

// Errors
export { FactorDefinitionError, InputError, InvalidEventError, isUserError, LockstepError, SnapshotError, UsageError, UserError } from './core/errors.ts';
export type { InputErrorInfo } from './core/errors.ts';

// State persistence (checkpoints, snapshots)
export { cloneState, decodeState, encodeState, hashState, stateFromJson, stateToJson } from './core/state-codec.ts';

// Kernels for writing factors: each is plain state plus free functions, O(1) per update
export { compensatedAdd, compensatedClear, compensatedValue, initCompensatedSum } from './core/kernels/compensated-sum.ts';
export type { CompensatedSum } from './core/kernels/compensated-sum.ts';
export { decayedAdd, decayedMean, decayedSum, decayedWeight, decayTo, emaPush, emaReady, emaValue, initDecayedEwm, initEma } from './core/kernels/ewm.ts';
export type { DecayedEwm, Ema } from './core/kernels/ewm.ts';
export { initMacd, macdHist, macdLine, macdPush, macdReady, macdSignal } from './core/kernels/macd.ts';
export type { Macd } from './core/kernels/macd.ts';
export { closedBarStartNs, closedBarVwap, MINUTE_NS, minuteOf } from './core/kernels/minute-bars.ts';
export { DEFAULT_SESSION, newYorkDay, newYorkWallToUtc, SESSION_KINDS, SESSION_PARAMS, sessionAt } from './core/kernels/market-sessions.ts';
export type { SessionBounds, SessionKind, SessionParam } from './core/kernels/market-sessions.ts';
export { isNyseEarlyClose, isNyseHoliday, NYSE_CALENDAR_YEARS } from './core/kernels/market-calendar.ts';
export type { MinuteBars } from './core/kernels/minute-bars.ts';
export { bestAsk, bestAskSize, bestBid, bestBidSize, depth, isCrossed, levelCount, levelPrice, levelSize } from './core/kernels/order-book.ts';
export type { BookSideId, OrderBook } from './core/kernels/order-book.ts';
export { initRing, ringCapacity, ringClear, ringFull, ringGet, ringNewest, ringOldest, ringPush, ringSize } from './core/kernels/ring-buffer.ts';
export type { RingBuffer } from './core/kernels/ring-buffer.ts';
export { initRollingSum, rollingCount, rollingFull, rollingMean, rollingPush, rollingSum, rollingVariance } from './core/kernels/rolling-sum.ts';
export type { RollingSum } from './core/kernels/rolling-sum.ts';
export { initRsi, rsiPush, rsiValue } from './core/kernels/rsi.ts';
export type { Rsi } from './core/kernels/rsi.ts';
export {
  initTimeWindow,
  timeWindowAdvance,
  timeWindowBuySum,
  timeWindowCount,
  timeWindowMean,
  timeWindowOldestTime,
  timeWindowPush,
  timeWindowPushSided,
  timeWindowSellSum,
  timeWindowSum,
  timeWindowVariance,
} from './core/kernels/time-window.ts';
export type { TimeWindow } from './core/kernels/time-window.ts';
export { initWelford, welfordAdd, welfordCount, welfordMean, welfordRemove, welfordVariance } from './core/kernels/welford.ts';
export type { Welford } from './core/kernels/welford.ts';
export { initWilder, wilderPush, wilderValue } from './core/kernels/wilder.ts';
export type { Wilder } from './core/kernels/wilder.ts';
