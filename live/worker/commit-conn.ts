/**
 * The worker's lean commit connection on a single node (or under Sentinel): the commit script
 * call (commit-script.ts) as pre-encoded RESP on a live/resp-connection.ts connection, instead of
 * an ioredis command object per call. Profiled at 10k events/s, building and writing the commit
 * through ioredis was ~30% of the worker's CPU before latest values went out as differences, and
 * still its largest single cost after; this path makes one string (one Buffer when the fold state
 * rides along) and one socket write per commit.
 *
 * Calls are written in the order they are made and answered in that order (one connection), which
 * is what lets the committer keep several commits in flight (commit.ts). No offline queue and no
 * resend: a call that fails or times out closes the connection and fails every call in flight;
 * the committer then re-sends them one at a time, in order (each is idempotent).
 */
import { createHash } from 'node:crypto';
import { COMMIT_BATCH_LUA } from '../commit-script.ts';
import { encodeCommandMixed, intOrTextArrayReply, RedisReplyError, RespConnection, type RespConnectionOptions } from '../resp-connection.ts';

const COMMIT_SHA = createHash('sha1').update(COMMIT_BATCH_LUA).digest('hex');

export class CommitConnection {
  private readonly conn: RespConnection;
  /**
   * The next call sends the script's text (EVAL, which also caches it): Redis answered NOSCRIPT
   * (restarted, failed over, or its script cache was flushed).
   */
  private sendScript = false;

  constructor(url: string, opts: RespConnectionOptions) {
    this.conn = new RespConnection(url, opts);
  }

  /** One commit script call: `keys` and `argv` as COMMIT_BATCH_LUA takes them; one result per shard. */
  commit(keys: readonly string[], argv: readonly (string | Buffer)[]): Promise<(number | string)[]> {
    const script = this.sendScript;
    const args: (string | Buffer)[] = script ? ['EVAL', COMMIT_BATCH_LUA] : ['EVALSHA', COMMIT_SHA];
    args.push(String(keys.length));
    for (const k of keys) args.push(k);
    for (const a of argv) args.push(a);
    return this.conn.request(encodeCommandMixed(args), 1, intOrTextArrayReply).then(
      (v) => {
        if (script) this.sendScript = false;
        return v[0] as (number | string)[];
      },
      (e: unknown) => {
        if (e instanceof RedisReplyError && e.message.startsWith('NOSCRIPT')) this.sendScript = true;
        throw e;
      },
    );
  }

  close(): void {
    this.conn.close();
  }
}
