/**
 * The fill simulator (issue 18 item 5): a pure, deterministic exchange for one symbol that plays
 * the replayed market events against child orders, with hftbacktest's queue-position models and
 * latency split. See matcher.ts for the rules.
 */
export { advance, cancel, createSimulator, drain, nextArrivalAt, nextReportAt, onMarket, onMarketBatch, submit, topOfBook, visibleLots, workingOrders } from './matcher.ts';
export type { SimConfig, SimOrder, SimState } from './matcher.ts';
export { arrivalAt, constantLatency, entryLatency, latencyFromMs, maxRoundTrip, responseAt, responseLatency, seenAt, tableLatency, ZERO_LATENCY } from './latency.ts';
export type { Latency, LatencyTable } from './latency.ts';
export { checkQueueModel, newQueuePos, onDepth, onTrade, parseQueueModel, probBehind, queueFillable, queueModelName } from './queue.ts';
export type { QueueModel, QueuePos } from './queue.ts';
export { checkFees, feeUnits } from './reports.ts';
export type { FeeConfig, Liquidity, SimReport } from './reports.ts';
export { priceToTicks, sizeToLots, tradeTicks } from './ticks.ts';
export type { DepthFrom } from './book.ts';
export { OffGridPriceError, SimInputError } from './errors.ts';
