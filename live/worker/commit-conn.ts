/**
 * The worker's lean commit connection on a single node (or under Sentinel): the commit script
 * call (commit-script.ts) as pre-encoded RESP on a live/resp-connection.ts connection, instead of
 * an ioredis command object per call. Profiled at 10k events/s, building and writing the commit
 * through ioredis was ~30% of the worker's CPU before latest values went out as differences, and
 * still its largest single cost after; this path writes a short header string and the call's
 * arguments, encoded straight into one Buffer (commit-frame.ts), in one socket write per commit.
 *
 * Calls are written in the order they are made and answered in that order (one connection), which
 * is what lets the committer keep several commits in flight (commit.ts). No offline queue and no
 * resend: a call that fails or times out closes the connection and fails every call in flight;
 * the committer then re-sends them one at a time, in order (each is idempotent).
 */
import { createHash } from 'node:crypto';
import { COMMIT_BATCH_LUA } from '../commit-script.ts';
import { intOrTextArrayReply, RedisReplyError, RespConnection, type RespConnectionOptions } from '../resp-connection.ts';
import { FRAME_ROOM, type CommitFrame } from './commit-frame.ts';

const COMMIT_SHA = createHash('sha1').update(COMMIT_BATCH_LUA).digest('hex');
/** The call's first two arguments, after its array header: EVALSHA and the SHA, or EVAL and the script. */
const EVALSHA_HEAD = `$7\r\nEVALSHA\r\n$40\r\n${COMMIT_SHA}\r\n`;
const EVAL_HEAD = `$4\r\nEVAL\r\n$${Buffer.byteLength(COMMIT_BATCH_LUA)}\r\n${COMMIT_BATCH_LUA}\r\n`;

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

  /**
   * One commit script call: its numkeys, keys and arguments as COMMIT_BATCH_LUA takes them, already
   * encoded (commit-frame.ts); one result per shard. The frame is not changed: a retry sends it again.
   */
  commit(frame: CommitFrame): Promise<(number | string)[]> {
    const script = this.sendScript;
    const head = `*${2 + frame.args}\r\n${script ? EVAL_HEAD : EVALSHA_HEAD}`;
    let out: Buffer | (string | Buffer)[];
    if (script || head.length > FRAME_ROOM) out = [head, frame.body];
    else {
      // the head in the room left before the body: one Buffer, one write (head is ASCII)
      const at = FRAME_ROOM - head.length;
      frame.buf.write(head, at, 'latin1');
      out = frame.buf.subarray(at);
    }
    return this.conn.request(out, 1, intOrTextArrayReply).then(
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
