/**
 * Redis under Sentinel, named by one URL:
 *
 *   redis+sentinel://[user:password@]host:port[,host:port...]/master-name[/db][?sentinel_password=...&sentinel_username=...]
 *
 * The hosts are the Sentinels (port 26379 when omitted), `master-name` the name they monitor; the
 * user and password are for the Redis nodes, `sentinel_username`/`sentinel_password` for the
 * Sentinels when they have their own. Every connection asks the Sentinels where the primary is
 * when it connects, so after a failover the next reconnect reaches the promoted replica by
 * itself. ioredis connections (redis-connect.ts) use ioredis's own Sentinel support with these
 * settings; the lean connection (resp-connection.ts) asks with `resolveSentinelMaster`.
 */
import { connect as netConnect } from 'node:net';
import { UserError } from '../core/errors.ts';

export interface SentinelConfig {
  sentinels: { host: string; port: number }[];
  /** The master name the Sentinels monitor. */
  name: string;
  username?: string;
  password?: string;
  db: number;
  sentinelUsername?: string;
  sentinelPassword?: string;
}

/** A Sentinel URL that cannot be used: a user error. */
export class SentinelUrlError extends UserError {}

export function isSentinelUrl(url: string): boolean {
  return /^redis\+sentinel:\/\//i.test(url);
}

/** Parses a `redis+sentinel://` URL (see the file comment). */
export function parseSentinelUrl(url: string): SentinelConfig {
  const m = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/i.exec(url);
  if (!m) throw new SentinelUrlError(`cannot read the Sentinel URL ${url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: expected redis+sentinel://[user:password@]host:port[,host:port...]/master-name[/db]`);
  const sentinels = m[3].split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    const host = i >= 0 ? hp.slice(0, i) : hp;
    const port = i >= 0 ? Number(hp.slice(i + 1)) : 26379;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new SentinelUrlError(`bad Sentinel address ${hp} in the Redis URL`);
    return { host: host || '127.0.0.1', port };
  });
  const q = new URLSearchParams(m[6] ?? '');
  const unknown = [...q.keys()].filter((k) => k !== 'sentinel_password' && k !== 'sentinel_username');
  if (unknown.length > 0) throw new SentinelUrlError(`unknown parameter(s) ${unknown.join(', ')} in the Sentinel URL: use sentinel_username, sentinel_password`);
  const dec = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  return {
    sentinels,
    name: decodeURIComponent(m[4]),
    username: dec(m[1]),
    password: dec(m[2]),
    db: m[5] ? Number(m[5]) : 0,
    sentinelUsername: q.get('sentinel_username') ?? undefined,
    sentinelPassword: q.get('sentinel_password') ?? undefined,
  };
}

function resp(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** Asks one Sentinel for the master's address; null when it does not know it. */
function askSentinel(s: { host: string; port: number }, cfg: SentinelConfig, timeoutMs: number): Promise<{ host: string; port: number } | null> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: s.host, port: s.port });
    let buf = '';
    const done = (err: Error | null, v: { host: string; port: number } | null = null) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v);
    };
    const timer = setTimeout(() => done(new Error(`Sentinel ${s.host}:${s.port} did not answer`)), timeoutMs);
    const auth = cfg.sentinelPassword !== undefined;
    sock.on('connect', () => {
      let text = '';
      if (auth) text += resp(cfg.sentinelUsername !== undefined ? ['AUTH', cfg.sentinelUsername, cfg.sentinelPassword!] : ['AUTH', cfg.sentinelPassword!]);
      sock.write(text + resp(['SENTINEL', 'get-master-addr-by-name', cfg.name]));
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let rest = buf;
      if (auth) {
        const a = /^([+-])([^\r]*)\r\n/.exec(rest);
        if (!a) return;
        if (a[1] === '-') return done(new Error(`Sentinel ${s.host}:${s.port}: ${a[2]}`));
        rest = rest.slice(a[0].length);
      }
      if (/^\*-1\r\n/.test(rest)) return done(null, null);
      const e = /^-([^\r]*)\r\n/.exec(rest);
      if (e) return done(new Error(`Sentinel ${s.host}:${s.port}: ${e[1]}`));
      const m = /^\*2\r\n\$\d+\r\n([^\r]*)\r\n\$\d+\r\n(\d+)\r\n/.exec(rest);
      if (m) done(null, { host: m[1], port: Number(m[2]) });
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error(`Sentinel ${s.host}:${s.port} closed the connection`)));
  });
}

/** The current primary's address, from the first Sentinel that knows it. */
export async function resolveSentinelMaster(cfg: SentinelConfig, timeoutMs: number): Promise<{ host: string; port: number }> {
  const why: string[] = [];
  for (const s of cfg.sentinels) {
    try {
      const addr = await askSentinel(s, cfg, timeoutMs);
      if (addr !== null) return addr;
      why.push(`${s.host}:${s.port} does not monitor "${cfg.name}"`);
    } catch (e) {
      why.push((e as Error).message);
    }
  }
  throw new Error(`no Sentinel gave the primary of "${cfg.name}" (${why.join('; ')})`);
}

/** The ioredis options for a Sentinel URL (merged into the single-node options by redis-connect.ts). */
export function sentinelRedisOptions(cfg: SentinelConfig) {
  return {
    sentinels: cfg.sentinels,
    name: cfg.name,
    role: 'master' as const,
    username: cfg.username,
    password: cfg.password,
    db: cfg.db,
    sentinelUsername: cfg.sentinelUsername,
    sentinelPassword: cfg.sentinelPassword,
    sentinelRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // a primary demoted by a failover answers writes with READONLY: reconnect (to the new primary)
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false) as 2 | false,
  };
}
