/**
 * ioredis connections with defaults chosen for a trading system, not for a web app:
 * - no offline queue: while Redis is down, commands fail at once instead of piling up in memory
 *   (memory stays bounded; the worker reports unhealthy and retries its batch);
 * - no automatic resend of unfulfilled commands after a reconnect: a write is retried only by our
 *   own code, and every write is idempotent (guarded by stream IDs), so a retry is harmless;
 * - command and connect timeouts, so a frozen server (SIGSTOP) is noticed instead of hanging;
 * - blocking reads use short BLOCK times and are re-issued by the loop after a reconnect.
 * ACL user/password and TLS come from the URL (`rediss://user:pass@host:port`) or options. A
 * `rediss://` URL verifies the server against the system CAs, or against a private CA given as
 * `?tls_ca=/path/ca.pem`; `tls_cert` and `tls_key` add a client certificate (mutual TLS) and
 * `tls_servername` the name to verify when it differs from the host. Verification cannot be
 * turned off from the URL. A `redis+sentinel://` URL names Sentinels and a master name instead of a
 * node (sentinel-url.ts): the primary is looked up on every (re)connect, so a failover is followed.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { UserError } from '../core/errors.ts';
import { quietReadyCheck } from './redis-ready.ts';
import { isSentinelUrl, parseSentinelUrl, sentinelRedisOptions } from './sentinel-url.ts';

/** A single node or a Redis Cluster; the live code uses only commands both support. */
export type RedisClient = Redis | Cluster;

export interface ConnectOptions {
  /** Per-command timeout (ms). Blocking reads get their BLOCK time on top. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  tls?: RedisOptions['tls'];
  username?: string;
  password?: string;
  /** Name shown in CLIENT LIST. */
  name?: string;
  /** Cluster only: how long `openRedis` waits for `cluster_state:ok` (a master failover under way), default 30 s. */
  clusterReadyMs?: number;
}

/** True when the URL lists several nodes (`redis://h1:p1,h2:p2`) or says `?cluster=1`. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?:\/\/[^/?]*,/.test(url) || /[?&]cluster=(1|true)\b/.test(url);
}

/** Redis cannot be reached or the connection settings are wrong: a user error, not a crash. */
export class RedisConnectError extends UserError {}

/** TLS settings of a `rediss://` URL (its `tls_*` query parameters); undefined for `redis://`. */
export function tlsFromUrl(url: string): RedisOptions['tls'] {
  const m = /^(rediss?):\/\/[^?]*(?:\?(.*))?$/.exec(url);
  if (!m) return undefined;
  const q = new URLSearchParams(m[2] ?? '');
  const tlsKeys = [...q.keys()].filter((k) => k.startsWith('tls_'));
  if (m[1] !== 'rediss') {
    if (tlsKeys.length > 0) throw new RedisConnectError(`${tlsKeys.join(', ')} given for a redis:// URL: use rediss:// for TLS`);
    return undefined;
  }
  const file = (k: string) => {
    const path = q.get(k);
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new RedisConnectError(`${k}=${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const unknown = tlsKeys.filter((k) => !['tls_ca', 'tls_cert', 'tls_key', 'tls_servername'].includes(k));
  if (unknown.length > 0) throw new RedisConnectError(`unknown TLS parameter(s) ${unknown.join(', ')} in the Redis URL: use tls_ca, tls_cert, tls_key, tls_servername`);
  const tls: NonNullable<RedisOptions['tls']> = {};
  const ca = file('tls_ca');
  const cert = file('tls_cert');
  const key = file('tls_key');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (q.get('tls_servername')) tls.servername = q.get('tls_servername')!;
  return tls;
}

export function connectRedis(url: string, opts: ConnectOptions = {}): RedisClient {
  if (isClusterUrl(url)) return connectCluster(url, opts);
  // redis+sentinel://: the primary is found through the Sentinels (sentinel-url.ts)
  const sentinel = isSentinelUrl(url) ? parseSentinelUrl(url) : null;
  const u = new URL(sentinel ? 'redis://sentinel' : url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RedisConnectError(`redis URL must start with redis://, rediss:// or redis+sentinel://, got ${redact(url)}`);
  const options: RedisOptions = {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: opts.username ?? (u.username ? decodeURIComponent(u.username) : undefined),
    password: opts.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    db: u.pathname && u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: opts.tls ?? tlsFromUrl(url),
    connectionName: opts.name,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: opts.connectTimeoutMs ?? 2000,
    enableReadyCheck: true,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (sentinel) Object.assign(options, sentinelRedisOptions(sentinel), { username: opts.username ?? sentinel.username, password: opts.password ?? sentinel.password });
  const r = new Redis(options);
  quietReadyCheck(r);
  // Errors surface on the commands that fail (and in health); without a listener ioredis would
  // print every reconnect attempt as an unhandled error event.
  r.on('error', () => {});
  return r;
}

/**
 * A Redis Cluster client with the same safety settings. Every key of a shard shares one hash tag
 * (keys.ts), so each commit script and each shard's reads stay inside one slot.
 */
function connectCluster(url: string, opts: ConnectOptions): Cluster {
  const m = /^(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)/.exec(url);
  if (!m) throw new Error(`cannot parse cluster URL ${url}`);
  const nodes = m[4].split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host || '127.0.0.1', port: port ? Number(port) : 6379 };
  });
  const c = new Cluster(nodes, {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    lazyConnect: true,
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    redisOptions: {
      username: opts.username ?? (m[2] ? decodeURIComponent(m[2]) : undefined),
      password: opts.password ?? (m[3] ? decodeURIComponent(m[3]) : undefined),
      tls: opts.tls ?? tlsFromUrl(url),
      connectionName: opts.name,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      connectTimeout: opts.connectTimeoutMs ?? 2000,
    },
  });
  c.on('error', () => {});
  return c;
}

/**
 * Connects a Cluster client and waits until it is ready. Not `connect()` alone: in ioredis 6 the
 * promise it returns never settles when its ready check finds `cluster_state:fail` (a master
 * failing over, between its death and its replica's promotion): the client disconnects and
 * reconnects by itself, and becomes ready once the cluster is ok again, but that first promise
 * has lost its listeners. A worker, `serve` or the parity run's drain check opening a connection
 * then hung forever. So the 'ready' event counts too, and after `ms` without it the cluster is
 * reported as not ready (callers that retry connect again).
 */
function clusterReady(c: Cluster, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      c.off('ready', onReady);
      if (e) reject(e);
      else resolve();
    };
    const onReady = () => done();
    const timer = setTimeout(() => done(new Error(`the cluster did not become ready within ${ms} ms (cluster_state:fail: a master failing over?)`)), ms);
    c.once('ready', onReady);
    c.connect().then(onReady, (e: Error) => done(e));
  });
}

/** Connects and waits until ready (throws after the connect timeout; a Cluster failing over gets `clusterReadyMs`). */
export async function openRedis(url: string, opts: ConnectOptions = {}): Promise<RedisClient> {
  const r = connectRedis(url, opts);
  // ioredis reports a refused TLS handshake as "Connection is closed"; keep the socket's own
  // error (e.g. "self-signed certificate in certificate chain") for the message
  let cause: Error | null = null;
  const onError = (e: Error) => (cause = e);
  r.on('error', onError);
  try {
    await (r instanceof Cluster ? clusterReady(r, opts.clusterReadyMs ?? 30_000) : r.connect());
  } catch (e) {
    r.disconnect();
    const why = cause !== null && cause !== e ? `${(e as Error).message} (${(cause as Error).message})` : (e as Error).message;
    throw new RedisConnectError(`cannot connect to Redis at ${redact(url)}: ${why}`);
  } finally {
    r.off('error', onError);
  }
  return r;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
