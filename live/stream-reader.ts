/**
 * The worker's input reads (XREADGROUP) on a single Redis node, over a connection of their own
 * with a small RESP reader instead of ioredis.
 *
 * Why: ioredis decodes a reply element by element through a generic decoder, and an XREADGROUP
 * reply holds ~17 bulk strings per entry: decoding cost the worker ~18 µs per entry, more than the
 * factors. This reader first checks that a whole reply has arrived (skipping over lengths, no
 * strings made), then makes each entry one latin1 string in one call and cuts its fields out with
 * substring (~1 µs per entry). Redis does no extra work: it is the same command.
 *
 * What it keeps from the ioredis settings (redis-connect.ts): ACL user/password, TLS (the same
 * `rediss://` parameters), db, a client name, a connect timeout, and a per-command timeout (block
 * time on top). No offline queue and no resend: a command fails when the connection is not up, and
 * a command that fails or times out closes the connection (its reply, if it ever comes, is never
 * matched to another command); the next command reconnects. Entries a lost reply delivered are
 * pending for this consumer, which the worker re-reads (worker.ts). One command at a time.
 *
 * Not for Redis Cluster (the worker reads through ioredis there, which routes by slot).
 */
import { isAscii } from 'node:buffer';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tlsFromUrl, type ConnectOptions } from './redis-connect.ts';

/** An input stream entry: its ID and flat field/value list (null when deleted while pending). */
export type Entry = [id: string, fields: string[] | null];

/** A reply that is not RESP, or not the shape XREADGROUP answers with (a bug, never bad input data). */
export class ReplyShapeError extends Error {
  constructor(offset: number, what: string) {
    super(`XREADGROUP reply, byte ${offset}: ${what}`);
    this.name = 'ReplyShapeError';
  }
}

/** An error reply from Redis (`-ERR ...`, `-NOGROUP ...`), with its message. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

type Slicer = (this: Buffer, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Slicer }).latin1Slice;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: Slicer }).utf8Slice;

const CR = 13;

/**
 * Scans a RESP2 reply in `buf[from, len)` without decoding it. Returns the offset just past the
 * reply, or -1 when more bytes are needed. Resumable: `stack` (elements still expected at each
 * nesting level) and the returned progress let the next call continue where this one stopped.
 */
export class ReplyScanner {
  /** Offset of the next element header to read. */
  pos = 0;
  private stack: number[] = [1];

  reset(from: number): void {
    this.pos = from;
    this.stack = [1];
  }

  /** Offset just past the complete reply, or -1 (call again with more bytes). */
  scan(buf: Buffer, len: number): number {
    let pos = this.pos;
    const stack = this.stack;
    while (stack.length > 0) {
      if (pos >= len) break;
      const type = buf[pos];
      let eol = pos + 1;
      while (eol < len && buf[eol] !== CR) eol++;
      if (eol + 1 >= len) break; // header incomplete
      let n = 0;
      if (type === 0x2a /* * */ || type === 0x24 /* $ */) {
        let i = pos + 1;
        const neg = buf[i] === 0x2d;
        if (neg) i++;
        if (i === eol) throw new ReplyShapeError(pos, 'empty length');
        for (; i < eol; i++) {
          const d = buf[i] - 48;
          if (d < 0 || d > 9) throw new ReplyShapeError(i, 'bad length');
          n = n * 10 + d;
        }
        if (neg) n = -n;
      } else if (type !== 0x2b /* + */ && type !== 0x2d /* - */ && type !== 0x3a /* : */) {
        throw new ReplyShapeError(pos, `unknown RESP type 0x${type.toString(16)}`);
      }
      let next = eol + 2;
      if (type === 0x24 && n >= 0) {
        next += n + 2;
        if (next > len) break; // bulk body incomplete
      }
      pos = next;
      if (type === 0x2a && n > 0) {
        stack.push(n);
        continue;
      }
      // one element complete: close the arrays it completes
      while (stack.length > 0 && --stack[stack.length - 1] === 0) stack.pop();
    }
    this.pos = pos;
    return stack.length === 0 ? pos : -1;
  }
}

/**
 * Decodes a complete XREADGROUP reply in `buf[0, end)`: null for a nil reply (BLOCK timed out),
 * else [stream, entries] per stream. An error reply throws RedisReplyError.
 */
export function decodeXReadReply(buf: Buffer, end: number): [string, Entry[]][] | null {
  let pos = 0;
  // RESP's own bytes are ASCII: an all-ASCII reply (the usual case) needs no check per entry
  const ascii = isAscii(buf.subarray(0, end));
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
  if (buf[0] === 0x2d) throw new RedisReplyError(utf8Slice.call(buf, 1, end - 2));
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

/** RESP for one command. */
function encodeCommand(args: readonly (string | number)[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const v = String(a);
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  }
  return s;
}

interface Pending {
  /** Decodes the complete reply in buf[0, end). */
  decode(buf: Buffer, end: number): unknown;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export interface StreamReaderOptions extends ConnectOptions {
  /** Per-command timeout (ms); a blocking read gets its block time on top. Default 2000. */
  commandTimeoutMs?: number;
}

export class StreamReader {
  private sock: Socket | null = null;
  private ready: Promise<void> | null = null;
  private pending: Pending[] = [];
  private acc = Buffer.allocUnsafe(64 * 1024);
  private len = 0;
  private readonly scanner = new ReplyScanner();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly opts: StreamReaderOptions = {},
  ) {}

  /**
   * XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS s1.. id1..: the entries of
   * each stream that has any, or null when none came within the block time.
   */
  async readGroup(group: string, consumer: string, count: number, blockMs: number | null, streams: readonly string[], ids: readonly string[]): Promise<[string, Entry[]][] | null> {
    const args: (string | number)[] = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', count];
    if (blockMs !== null) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...streams, ...ids);
    const timeout = (this.opts.commandTimeoutMs ?? 2000) + (blockMs ?? 0);
    return (await this.send(args, timeout, decodeXReadReply)) as [string, Entry[]][] | null;
  }

  close(): void {
    this.closed = true;
    this.drop(new Error('Connection is closed.'));
  }

  private async send(args: readonly (string | number)[], timeoutMs: number, decode: Pending['decode']): Promise<unknown> {
    if (this.closed) throw new Error('Connection is closed.');
    if (this.pending.length > 0) throw new Error('StreamReader: one command at a time');
    const deadline = Date.now() + timeoutMs;
    await this.connected(timeoutMs);
    return this.command(encodeCommand(args), Math.max(1, deadline - Date.now()), decode);
  }

  private command(text: string, timeoutMs: number, decode: Pending['decode']): Promise<unknown> {
    const sock = this.sock;
    if (sock === null) return Promise.reject(new Error('Connection is closed.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.drop(new Error('Command timed out')), timeoutMs);
      this.pending.push({
        decode,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      sock.write(text);
    });
  }

  /** Connects (once) and runs the handshake: AUTH, SELECT, CLIENT SETNAME. */
  private connected(timeoutMs: number): Promise<void> {
    if (this.ready !== null) return this.ready;
    const u = new URL(this.url);
    const host = u.hostname || '127.0.0.1';
    const port = u.port ? Number(u.port) : 6379;
    const tls = this.opts.tls ?? tlsFromUrl(this.url);
    const sock = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
    sock.setNoDelay(true);
    this.sock = sock;
    this.len = 0;
    this.scanner.reset(0);
    // events of a connection that was already dropped must not touch its successor
    const drop = (e: Error) => {
      if (this.sock === sock) this.drop(e);
    };
    const up = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => drop(new Error('connect ETIMEDOUT')), Math.min(timeoutMs, this.opts.connectTimeoutMs ?? 2000));
      sock.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('close', () => {
        clearTimeout(timer);
        reject(new Error('Connection is closed.'));
      });
    });
    sock.on('data', (chunk: Buffer) => {
      if (this.sock === sock) this.onData(chunk);
    });
    sock.on('error', drop);
    sock.on('close', () => drop(new Error('Connection is closed.')));
    const user = this.opts.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const pass = this.opts.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    const db = u.pathname && u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
    const steps: (string | number)[][] = [];
    if (pass !== undefined) steps.push(user !== undefined ? ['AUTH', user, pass] : ['AUTH', pass]);
    if (db !== 0) steps.push(['SELECT', db]);
    if (this.opts.name) steps.push(['CLIENT', 'SETNAME', this.opts.name]);
    const ready = (async () => {
      await up;
      for (const step of steps) await this.command(encodeCommand(step), timeoutMs, okReply);
    })();
    this.ready = ready;
    // a failed handshake leaves no half-open connection behind
    ready.catch(drop);
    return ready;
  }

  /** Closes the connection and fails every command in flight; the next command reconnects. */
  private drop(e: Error): void {
    const sock = this.sock;
    this.sock = null;
    this.ready = null;
    if (sock !== null) sock.destroy();
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(e);
  }

  private onData(chunk: Buffer): void {
    if (this.len + chunk.length > this.acc.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.acc.length * 2, this.len + chunk.length));
      this.acc.copy(bigger, 0, 0, this.len);
      this.acc = bigger;
    }
    chunk.copy(this.acc, this.len);
    this.len += chunk.length;
    for (;;) {
      let end: number;
      try {
        end = this.scanner.scan(this.acc, this.len);
      } catch (e) {
        return this.drop(e as Error);
      }
      if (end < 0) return;
      const p = this.pending.shift();
      if (p === undefined) return this.drop(new ReplyShapeError(0, 'a reply no command was waiting for'));
      try {
        p.resolve(p.decode(this.acc, end));
      } catch (e) {
        // an error reply (the connection is fine) or a malformed one (it is not)
        if (e instanceof RedisReplyError) p.reject(e);
        else {
          p.reject(e as Error);
          return this.drop(e as Error);
        }
      }
      // keep the rest (normally nothing: one command at a time) at the start of the buffer
      this.acc.copy(this.acc, 0, end, this.len);
      this.len -= end;
      this.scanner.reset(0);
      if (this.len === 0) {
        // do not hold on to a large reply's buffer
        if (this.acc.length > 1 << 20) this.acc = Buffer.allocUnsafe(64 * 1024);
        return;
      }
    }
  }
}

/** A handshake reply: +OK (anything else but an error is accepted), or the error it carries. */
function okReply(buf: Buffer, end: number): string {
  if (buf[0] === 0x2d) throw new RedisReplyError(utf8Slice.call(buf, 1, end - 2));
  return latin1Slice.call(buf, 0, end);
}
