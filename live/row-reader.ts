/**
 * The read client's connection on a single Redis node: the few read commands it needs (HGET of
 * many keys in one write, HMGET, GET, HGETALL of the alerts firing, PING) over a lean RESP connection (resp-connection.ts) instead of
 * ioredis, whose per-command objects and promises cost more than Redis's own work on a
 * 100-symbol read (p99 6.3 ms vs 1.4 ms for 100 pipelined HGETs, measured here).
 *
 * Read-only by construction: these are the only commands it can send (GET only reads the kill
 * switch, HGETALL the alerts firing). Requests are pipelined on
 * one connection (the HTTP API's concurrent requests share it). Redis Cluster: use ioredis
 * (`openFeatureSource` picks it), which routes each key to its node.
 */
import { bulkArrayReply, bulkReply, encodeCommand, RespConnection, simpleReply } from './resp-connection.ts';
import { connect as tlsConnect } from 'node:tls';
import { isClusterUrl, openRedis, redact, RedisConnectError, tlsFromUrl, type ConnectOptions, type RedisClient } from './redis-connect.ts';

export class RowReader {
  private readonly conn: RespConnection;

  constructor(url: string, opts: ConnectOptions & { commandTimeoutMs?: number } = {}) {
    this.conn = new RespConnection(url, opts);
  }

  /** HGET `field` of each key, in one write and one round trip; null where a key or field is missing. */
  async hgetEach(keys: readonly string[], field: string): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return (await this.conn.request(hgetText(keys, field), keys.length, bulkReply)) as (string | null)[];
  }

  /**
   * `hgetEach(keys, field)` and a GET of `extraKey` (the kill switch) in the same write and round
   * trip; the GET's reply is the last element.
   */
  async hgetEachThenGet(keys: readonly string[], field: string, extraKey: string): Promise<(string | null)[]> {
    const text = hgetText(keys, field) + encodeCommand(['GET', extraKey]);
    return (await this.conn.request(text, keys.length + 1, bulkReply)) as (string | null)[];
  }

  async get(key: string): Promise<string | null> {
    return (await this.conn.request(encodeCommand(['GET', key]), 1, bulkReply))[0] as string | null;
  }

  async hmget(key: string, ...fields: string[]): Promise<(string | null)[]> {
    return (await this.conn.request(encodeCommand(['HMGET', key, ...fields]), 1, bulkArrayReply))[0] as (string | null)[];
  }

  /** HGETALL `key` as an object (empty when the key does not exist). */
  async hgetall(key: string): Promise<Record<string, string>> {
    const flat = (await this.conn.request(encodeCommand(['HGETALL', key]), 1, bulkArrayReply))[0] as (string | null)[];
    // field names come from Redis: an object without a prototype has no `__proto__` or `constructor` to collide with
    const out: Record<string, string> = Object.create(null);
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1] ?? '';
    return out;
  }

  async ping(): Promise<string> {
    return ((await this.conn.request(encodeCommand(['PING']), 1, simpleReply))[0] as string).trim();
  }

  disconnect(): void {
    this.conn.close();
  }
}

function hgetText(keys: readonly string[], field: string): string {
  const tail = `$${Buffer.byteLength(field)}\r\n${field}\r\n`;
  let text = '';
  for (const k of keys) text += `*3\r\n$4\r\nHGET\r\n$${Buffer.byteLength(k)}\r\n${k}\r\n${tail}`;
  return text;
}

/** What the read client reads through: the lean reader on a single node, ioredis on Cluster. */
export type FeatureSource = RowReader | RedisClient;

/**
 * Opens the read client's connection for `url`: a RowReader on a single node (checked with a
 * PING, so a wrong address or password fails here, as a RedisConnectError), ioredis on Cluster.
 */
export async function openFeatureSource(url: string, opts: ConnectOptions & { commandTimeoutMs?: number } = {}): Promise<FeatureSource> {
  if (isClusterUrl(url)) return openRedis(url, opts);
  const reader = new RowReader(url, opts);
  try {
    await reader.ping();
  } catch (e) {
    reader.disconnect();
    if (e instanceof RedisConnectError) throw e;
    // a refused TLS handshake reaches the reader as a closed connection: ask TLS itself why
    const why = /^rediss:/.test(url) ? await tlsFailure(url, opts) : null;
    throw new RedisConnectError(`cannot connect to Redis at ${redact(url)}: ${(e as Error).message}${why ? ` (${why})` : ''}`);
  }
  return reader;
}

/**
 * Why a TLS handshake with `url` fails (e.g. "self-signed certificate in certificate chain"), or
 * null when it succeeds or says nothing in time. Only called once a connection has failed.
 */
function tlsFailure(url: string, opts: ConnectOptions): Promise<string | null> {
  const u = new URL(url);
  const options = { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379, ...(opts.tls ?? tlsFromUrl(url)) };
  return new Promise((resolve) => {
    const sock = tlsConnect(options);
    const done = (why: string | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(null), opts.connectTimeoutMs ?? 2000);
    sock.once('secureConnect', () => done(null));
    sock.once('error', (e) => done(e.message));
  });
}
