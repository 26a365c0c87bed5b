/**
 * Redis key layout. Every key of a shard carries the hash tag `{<ns>:<shard>}`, so in Redis
 * Cluster a shard's input stream, output stream, latest values and checkpoint live in one slot and
 * one MULTI can write them together.
 *
 *   <ns>:in:{<ns>:<s>}              input stream of shard s (the feed writes, workers read)
 *   <ns>:out:{<ns>:<s>}             output stream: one entry per output row
 *   <ns>:latest:{<ns>:<s>}:<SYM>    hash: latest value of every factor column for SYM, plus meta
 *   <ns>:ckpt:{<ns>:<s>}            hash: the shard's fold state and the input IDs it covers
 *   <ns>:dlq:{<ns>:<s>}             dead letters: the bad entry's fields plus the reason
 *   <ns>:lease:{<ns>:<s>}           which worker owns the shard (SET NX PX, renewed)
 *   <ns>:lineage:{<ns>:<s>}         JSON: the lineage of the shard's rows (replay/lineage.ts), set when a worker takes it
 *   <ns>:meta                       shard count and feature-set version of the deployment
 *   <ns>:data-lost                  JSON: a worker stopped because Redis lost the deployment's data (for the alerts)
 *   <ns>:workers                    sorted set: balancing workers (`lockstep live --balance`) by expiry
 *   <ns>:kill                       the kill switch (JSON: whole deployment and/or symbols; kill-switch.ts)
 *   <ns>:alerts                     alert transitions (firing / resolved) written by `lockstep alerts watch`
 *   <ns>:alerts:state               hash: the alerts firing now, by id (JSON each)
 *   <ns>:weights                    hash: the latest target weights and their rebalance time (weights-record.ts)
 *   <ns>:weights:log                stream: one entry per rebalance, the same fields
 *   <ns>:weights:state              hash: the weights driver's checkpoint (portfolio/checkpoint.ts), set in the same MULTI as the rebalances
 *   <ns>:weights:requests           stream: on-demand rebalance requests (`lockstep weights --request`; optional field `at`, epoch ns)
 *   <ns>:weights:inputs             stream: the requests and kill-switch changes the weights driver read, at the event time it gave them (portfolio/control.ts)
 *   <ns>:models:log                 the live deployment log (live/live/models/live-log.ts): deploys, promotes, rollbacks, late amendments
 *   <ns>:models:seen                hash: per shard, the last models-log ID its worker judged before applying more input
 *   <ns>:models:latency             hash: per worker, its models' evaluation-time histograms (live/models/latency.ts)
 *   <ns>:fills                      stream: fills (and heartbeats) for the desk (trading/fills-wire.ts)
 *   <ns>:fills:dlq                  dead letters of the fills stream: the entry's id, the reason, its fields
 *   <ns>:pnl / :risk / :positions   hashes: the desk's latest PnL, risk and positions (live/pnl-record.ts)
 *   <ns>:pnl:log                    stream: the desk's 1-second PnL series, one entry per second
 *   <ns>:desk                       hash: the desk's progress (outputs written), set in the same MULTI as they are
 *   <ns>:limits                     JSON: the limits the desk runs with, its limits file's path and SHA-256 (trading/limits-record.ts), set when it starts
 *   <ns>:orders                     stream: child orders and cancels of the execution algorithms (trading/exec/exec-wire.ts)
 *   <ns>:exec:<parent>              hash: a live parent order's progress (outputs written), set in the same MULTI as they are;
 *                                   its run's state, heartbeat and schedule position (trading/exec/exec-status.ts)
 *   <ns>:exec:<parent>:journal      list: segments of what the parent's checkpoint only adds to (trading/exec/ckpt-journal.ts), in the same MULTI
 *   <ns>:exec:<parent>:schedule     JSON: the parent's planned schedule (trading/exec/exec-status.ts), set when its live run starts
 *   <ns>:exec:<parent>:kills        stream: the kill-switch changes that parent's algorithm read, at the event time it read them
 *   <ns>:exec:clocks                hash: per running parent, the event time before which its decisions are all written (the sim gateway paces by it)
 *   <ns>:exec:<parent>:tca          JSON: the parent's TCA (trading/tca.ts) once its live run has ended
 *   <ns>:exec:reports               stream: the order gateway's cancel reports (trading/exec/exec-wire.ts), heartbeats with <ns>:fills
 *   <ns>:gateway                    hash: the simulated gateway's checkpoint (trading/exec/gateway-checkpoint.ts), set in the MULTI of its fills
 *   <ns>:gateway:journal            list: segments of the gateway checkpoint's order ids and parents (trading/exec/ckpt-journal.ts), in the same MULTI
 *   <ns>:exec:dlq                   dead letters of the execution algorithms: a fill they refused, the reason, its fields
 */
import { shardOf } from './shard.ts';

export interface KeyLayout {
  ns: string;
  shards: number;
}

const tag = (k: KeyLayout, s: number) => `{${k.ns}:${s}}`;

export const inputStream = (k: KeyLayout, s: number) => `${k.ns}:in:${tag(k, s)}`;
export const outputStream = (k: KeyLayout, s: number) => `${k.ns}:out:${tag(k, s)}`;
export const latestKey = (k: KeyLayout, symbol: string) => `${k.ns}:latest:${tag(k, shardOf(symbol, k.shards))}:${symbol}`;
export const checkpointKey = (k: KeyLayout, s: number) => `${k.ns}:ckpt:${tag(k, s)}`;
export const deadLetterStream = (k: KeyLayout, s: number) => `${k.ns}:dlq:${tag(k, s)}`;
export const leaseKey = (k: KeyLayout, s: number) => `${k.ns}:lease:${tag(k, s)}`;
export const lineageKey = (k: KeyLayout, s: number) => `${k.ns}:lineage:${tag(k, s)}`;
export const metaKey = (k: KeyLayout) => `${k.ns}:meta`;
/**
 * Written by a worker that stops because Redis lost the deployment's data (`{consumer, at,
 * reason}`), so that `alerts watch` sees the loss even if it was not running when it happened;
 * a worker that starts (and records `<ns>:meta` again) deletes it.
 */
export const dataLostKey = (k: { ns: string }) => `${k.ns}:data-lost`;
/** The feed's record of the selection it is publishing (what a rerun resumes). */
export const feedKey = (k: { ns: string }) => `${k.ns}:feed`;
export const workersKey = (k: { ns: string }) => `${k.ns}:workers`;
export const killSwitchKey = (k: { ns: string }) => `${k.ns}:kill`;
export const alertsStream = (k: { ns: string }) => `${k.ns}:alerts`;
export const alertsStateKey = (k: { ns: string }) => `${k.ns}:alerts:state`;
/** Written by `lockstep weights --redis` (portfolio/live.ts), read by `/v1/weights`. */
export const weightsKey = (k: { ns: string }) => `${k.ns}:weights`;
export const weightsLogKey = (k: { ns: string }) => `${k.ns}:weights:log`;
export const weightsStateKey = (k: { ns: string }) => `${k.ns}:weights:state`;
export const weightsRequestsKey = (k: { ns: string }) => `${k.ns}:weights:requests`;
export const weightsInputsKey = (k: { ns: string }) => `${k.ns}:weights:inputs`;

/** Symbol names allowed in keys and the API: letters, digits and . _ - / : (at most 64). */
export const SYMBOL_RE = /^[A-Za-z0-9._\-/:]{1,64}$/;
export const modelsLogStream = (k: { ns: string }) => `${k.ns}:models:log`;
export const modelsSeenKey = (k: { ns: string }) => `${k.ns}:models:seen`;
export const modelsLatencyKey = (k: { ns: string }) => `${k.ns}:models:latency`;

/** The desk's inputs and outputs (`lockstep desk`, trading/desk-live.ts; served by /v1/pnl, /v1/risk, /v1/positions). */
export const fillsStream = (k: { ns: string }) => `${k.ns}:fills`;
export const fillsDeadLetterStream = (k: { ns: string }) => `${k.ns}:fills:dlq`;
export const pnlKey = (k: { ns: string }) => `${k.ns}:pnl`;
export const riskKey = (k: { ns: string }) => `${k.ns}:risk`;
export const positionsKey = (k: { ns: string }) => `${k.ns}:positions`;
export const pnlLogKey = (k: { ns: string }) => `${k.ns}:pnl:log`;
export const deskKey = (k: { ns: string }) => `${k.ns}:desk`;
/** The limits the desk runs with, for the dashboard's limit usage bars (read with the reader's GET). */
export const limitsKey = (k: { ns: string }) => `${k.ns}:limits`;

/** The execution algorithms' outputs and records (`lockstep execute --redis`, trading/exec/exec-live.ts). */
export const ordersStream = (k: { ns: string }) => `${k.ns}:orders`;
export const execProgressKey = (k: { ns: string }, parent: string) => `${k.ns}:exec:${parent}`;
export const execKillLogStream = (k: { ns: string }, parent: string) => `${k.ns}:exec:${parent}:kills`;
export const execClocksKey = (k: { ns: string }) => `${k.ns}:exec:clocks`;
export const execDeadLetterStream = (k: { ns: string }) => `${k.ns}:exec:dlq`;
export const gatewayKey = (k: { ns: string }) => `${k.ns}:gateway`;
export const execTcaKey = (k: { ns: string }, parent: string) => `${k.ns}:exec:${parent}:tca`;
export const execScheduleKey = (k: { ns: string }, parent: string) => `${k.ns}:exec:${parent}:schedule`;
export const execReportsStream = (k: { ns: string }) => `${k.ns}:exec:reports`;
