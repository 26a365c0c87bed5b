/**
 * The worker's input reads (XREADGROUP) on a single Redis node, over a connection of their own
 * (resp-connection.ts) with a small RESP decoder instead of ioredis.
 *
 * Why: ioredis decodes a reply element by element through a generic decoder, and an XREADGROUP
 * reply holds ~17 bulk strings per entry: decoding cost the worker ~18 µs per entry, more than the
 * factors. This reader first checks that a whole reply has arrived (skipping over lengths, no
 * strings made), then makes each entry one latin1 string in one call and cuts its fields out with
 * substring (~1 µs per entry). Redis does no extra work: it is the same command.
 *
 * The connection (resp-connection.ts) keeps ACL, TLS, db, name and timeouts from the ioredis
 * settings, never resends, and fails every command in flight when one times out; entries a lost
 * reply delivered are pending for this consumer, which the worker re-reads (worker/live-worker.ts).
 *
 * Not for Redis Cluster (the worker reads through ioredis there, which routes by slot).
 */
import { isAscii } from 'node:buffer';
import { encodeCommand, latin1Slice, RedisReplyError, ReplyShapeError, RespConnection, utf8Slice, type RespConnectionOptions } from './resp-connection.ts';

export { RedisReplyError, ReplyScanner, ReplyShapeError } from './resp-connection.ts';

/** An input stream entry: its ID and flat field/value list (null when deleted while pending). */
export type Entry = [id: string, fields: string[] | null];

const CR = 13;

/**
 * Decodes a complete XREADGROUP reply in `buf[start, end)`: null for a nil reply (BLOCK timed
 * out), else [stream, entries] per stream. An error reply throws RedisReplyError.
 */
export function decodeXReadReply(buf: Buffer, end: number, start = 0): [string, Entry[]][] | null {
  let pos = start;
  // RESP's own bytes are ASCII: an all-ASCII reply (the usual case) needs no check per entry
  const ascii = isAscii(buf.subarray(start, end));
  /** OR of every string byte of the current entry: below 0x80 means pure ASCII. */
  let high = 0;
  let marks = new Int32Array(64);
  const fail = (what: string): never => {
    throw new ReplyShapeError(pos, what);
  };
  /** Reads a header of `type`, returning its number; -1 for a nil. */
  const header = (type: number): number => {
    if (buf[pos] !== type) fail(`expected '${String.fromCharCode(type)}'`);
    let i = pos + 1;
    const neg = buf[i] === 0x2d;
    if (neg) i++;
    let n = 0;
    while (buf[i] !== CR) n = n * 10 + (buf[i++] - 48);
    pos = i + 2;
    return neg ? -1 : n;
  };
  /** Skips a bulk string, recording its bytes as mark m. */
  const bulk = (m: number): void => {
    const n = header(0x24);
    if (n < 0) fail('unexpected nil string');
    if (2 * m + 1 >= marks.length) {
      const bigger = new Int32Array(marks.length * 2);
      bigger.set(marks);
      marks = bigger;
    }
    marks[2 * m] = pos;
    if (ascii) pos += n;
    else for (const stop = pos + n; pos < stop; pos++) high |= buf[pos];
    marks[2 * m + 1] = pos;
    pos += 2;
  };
  if (buf[start] === 0x2d) throw new RedisReplyError(utf8Slice.call(buf, start + 1, end - 2));
  const streams = header(0x2a);
  if (streams < 0) return null;
  const out: [string, Entry[]][] = new Array(streams);
  for (let s = 0; s < streams; s++) {
    if (header(0x2a) !== 2) fail('a stream must be [name, entries]');
    bulk(0);
    const name = utf8Slice.call(buf, marks[0], marks[1]);
    const n = Math.max(0, header(0x2a));
    const entries: Entry[] = new Array(n);
    for (let e = 0; e < n; e++) {
      if (header(0x2a) !== 2) fail('an entry must be [id, fields]');
      high = 0;
      bulk(0);
      // a deleted entry re-read from the pending list has nil fields
      const k = buf[pos] === 0x24 ? (header(0x24) < 0 ? -1 : fail('expected the fields')) : header(0x2a);
      for (let i = 0; i < k; i++) bulk(i + 1);
      let id: string;
      let fields: string[] | null = null;
      if (high < 0x80) {
        // latin1: byte i is character i, so the fields are cut out of one string
        const base = marks[0];
        const whole = latin1Slice.call(buf, base, k > 0 ? marks[2 * k + 1] : marks[1]);
        id = whole.substring(0, marks[1] - base);
        if (k >= 0) {
          fields = new Array(k);
          for (let i = 1; i <= k; i++) fields[i - 1] = whole.substring(marks[2 * i] - base, marks[2 * i + 1] - base);
        }
      } else {
        id = utf8Slice.call(buf, marks[0], marks[1]);
        if (k >= 0) {
          fields = new Array(k);
          for (let i = 1; i <= k; i++) fields[i - 1] = utf8Slice.call(buf, marks[2 * i], marks[2 * i + 1]);
        }
      }
      entries[e] = [id, fields];
    }
    out[s] = [name, entries];
  }
  if (pos !== end) fail(`${end - pos} bytes after the reply`);
  return out;
}

const decodeRead = (buf: Buffer, start: number, end: number) => decodeXReadReply(buf, end, start);

export type StreamReaderOptions = RespConnectionOptions;

export class StreamReader {
  private readonly conn: RespConnection;

  constructor(url: string, opts: StreamReaderOptions = {}) {
    this.conn = new RespConnection(url, opts);
  }

  /**
   * XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS s1.. id1..: the entries of
   * each stream that has any, or null when none came within the block time. One at a time: a
   * blocking read holds the connection, and the worker never needs two.
   */
  async readGroup(group: string, consumer: string, count: number, blockMs: number | null, streams: readonly string[], ids: readonly string[]): Promise<[string, Entry[]][] | null> {
    if (this.conn.inFlight > 0) throw new Error('StreamReader: one command at a time');
    const args: (string | number)[] = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', count];
    if (blockMs !== null) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...streams, ...ids);
    const timeout = (this.conn.opts.commandTimeoutMs ?? 2000) + (blockMs ?? 0);
    return (await this.conn.request(encodeCommand(args), 1, decodeRead, timeout))[0] as [string, Entry[]][] | null;
  }

  /**
   * XREAD COUNT count [BLOCK ms] STREAMS s1.. id1.. (no group): the same reply shape as readGroup.
   * For readers that follow output streams (the latency bench's subscriber, where a client
   * library's reply decoder would take CPU from the worker it measures).
   */
  async read(count: number, blockMs: number | null, streams: readonly string[], ids: readonly string[]): Promise<[string, Entry[]][] | null> {
    if (this.conn.inFlight > 0) throw new Error('StreamReader: one command at a time');
    const args: (string | number)[] = ['XREAD', 'COUNT', count];
    if (blockMs !== null) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...streams, ...ids);
    const timeout = (this.conn.opts.commandTimeoutMs ?? 2000) + (blockMs ?? 0);
    return (await this.conn.request(encodeCommand(args), 1, decodeRead, timeout))[0] as [string, Entry[]][] | null;
  }

  close(): void {
    this.conn.close();
  }
}
