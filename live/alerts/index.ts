/**
 * Alerts for live mode: what an on-call engineer must hear about before a trading engine does.
 *
 * `evaluateAlerts` (evaluate.ts) is pure: from a plain-data snapshot of the deployment it returns
 * the alerts that fire now; `alertTransitions` (transitions.ts) turns two such lists into what
 * fired and resolved. `takeSnapshot` (snapshot.ts) reads the snapshot from Redis in two pipelined
 * round trips whatever the shard count. `AlertWatcher` (watcher.ts, the I/O adapter behind
 * `lockstep alerts watch`) takes a snapshot every interval and records each transition in
 * `<ns>:alerts` (a stream) and `<ns>:alerts:state` (a hash of the alerts firing now), which
 * `readFiringAlerts` and `followAlerts` (store.ts) read back.
 */
export type { Alert, AlertTransition, DeploymentPresence, DeploymentSnapshot, FiringAlert, Severity, ShardSnapshot } from './model.ts';
export { DATA_LOST, KILL_SWITCH, REDIS_DOWN } from './model.ts';
export { AlertConfigError, DEFAULT_THRESHOLDS, resolveThresholds, type AlertThresholds } from './thresholds.ts';
export { evaluateAlerts } from './evaluate.ts';
export { alertTransitions } from './transitions.ts';
export { alertsMetricsText } from './metrics.ts';
export { takeSnapshot, type SnapshotOptions } from './snapshot.ts';
export { AlertWatcher, type AlertWatcherOptions } from './watcher.ts';
export { followAlerts, readFiringAlerts, type AlertEntry, type FollowOptions } from './store.ts';
export { idMs } from '../stream-id.ts';
