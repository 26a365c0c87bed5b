/**
 * Live mode: the same factors over Redis Streams. A feed writes events to sharded input streams,
 * `LiveWorker`s fold them and publish rows and latest values, and the read client and HTTP API
 * serve them; a kill switch and alerts watch the deployment.
 *
 * ```ts
 * import { openFeatureSource, getOnlineFeatures } from 'lockstep/live';
 * ```
 *
 * @packageDocumentation
 * @module lockstep/live
 */

// Workers and the feed
export { FatalWorkerError, LeaseExpiredError, LiveWorker, RedisDataLostError, ShardDivergedError } from './worker/index.ts';
export type { WorkerHealth, WorkerOptions } from './worker/index.ts';
export { defaultConsumer, WORKER_DEFAULTS } from './worker/defaults.ts';
export { runFeed } from './feed.ts';
export type { FeedOptions, FeedSummary } from './feed.ts';
export type { KeyLayout } from './keys.ts';
export { shardOf } from './shard.ts';
export { decodeEvent, encodeEvent } from './wire.ts';
export type { Decoded, WireProblem } from './wire.ts';

// Redis connections
export { connectRedis, openRedis, RedisConnectError } from './redis-connect.ts';
export type { ConnectOptions, RedisClient } from './redis-connect.ts';

// Serving: the read client and the HTTP API
export { getOnlineFeatures, getOnlineFeaturesJson, QueryError, validateQuery } from './client.ts';
export type { FeatureValue, OnlineQuery, SymbolFeatures, ValueStatus } from './client.ts';
export { openFeatureSource, RowReader } from './row-reader.ts';
export type { FeatureSource } from './row-reader.ts';
export { startApi } from './http-api.ts';
export type { ApiOptions } from './http-api.ts';
export { readOutputColumns, readOutputRows, streamOutputRows } from './read-output.ts';
export type { OutputRow } from './read-output.ts';

// Kill switch
export { formatKillState, KILL_OFF, killFor, KillSwitchError, readKillSwitch, setKillSwitch } from './kill-switch.ts';
export type { KillChange, KillEntry, KillState } from './kill-switch.ts';

// Alerts
export { AlertConfigError, AlertWatcher, alertsMetricsText, DEFAULT_THRESHOLDS, evaluateAlerts, followAlerts, readFiringAlerts, resolveThresholds, takeSnapshot } from './alerts/index.ts';
export type { Alert, AlertEntry, AlertThresholds, AlertTransition, AlertWatcherOptions, DeploymentSnapshot, FiringAlert, FollowOptions, Severity, ShardSnapshot, SnapshotOptions } from './alerts/index.ts';
