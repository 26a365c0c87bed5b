/**
 * The worker's log of a Redis outage, in Lockstep's words and rate-limited: the first failure at
 * once, then at most one line per `everyMs` with the number of failures not shown, and one line
 * when Redis answers again. (The loop retries every 200 ms; one line per retry buried the log.)
 */

/** Where a Redis URL points, for messages: `host:port` (or the node list), without credentials or query. */
export function redisWhere(url: string): string {
  return /^rediss?:\/\/(?:[^@/?]*@)?([^/?]+)/.exec(url)?.[1] ?? url.replace(/\/\/[^@/]*@/, '//');
}

/** A client library's failure message in plain words (unknown ones are kept as they are). */
export function describeRedisFailure(e: unknown, timeoutMs: number): string {
  const m = String((e as Error)?.message ?? e);
  if (/enableOfflineQueue|Connection is closed|ECONNRESET|EPIPE|not connected|connection (closed|lost)|max retries per request/i.test(m)) return 'not connected';
  if (/ECONNREFUSED/.test(m)) return 'connection refused';
  if (/timed out/i.test(m)) return `no answer within ${timeoutMs} ms`;
  if (/LOADING/.test(m)) return 'Redis is loading its data';
  return m;
}

export class OutageLog {
  /** ms of the first failure of the current outage; 0 when Redis answers. */
  private since = 0;
  private lastLine = 0;
  private failures = 0;
  private notShown = 0;

  constructor(
    private readonly log: (msg: string) => void,
    /** `host:port` of Redis. */
    private readonly where: string,
    /** The command timeout, for the message of a timed-out command. */
    private readonly timeoutMs: number,
    /** At most one line per this many ms while the failures go on. */
    private readonly everyMs = 10_000,
  ) {}

  /** A Redis round trip failed (`what`: which one, e.g. "read" or "shard(s) 0,1: commit"). */
  failed(what: string, e: unknown): void {
    const now = Date.now();
    this.failures++;
    const why = describeRedisFailure(e, this.timeoutMs);
    if (this.since === 0) {
      this.since = this.lastLine = now;
      this.log(`Redis unreachable at ${this.where}: ${why} (${what}); retrying`);
      return;
    }
    if (now - this.lastLine < this.everyMs) {
      this.notShown++;
      return;
    }
    this.log(`Redis still unreachable at ${this.where} after ${((now - this.since) / 1000).toFixed(0)} s: ${why} (${what}); retrying (${this.notShown} failure(s) since the last line)`);
    this.lastLine = now;
    this.notShown = 0;
  }

  /** A Redis round trip succeeded: ends the outage, with one line, if there was one. Cheap when there was none. */
  ok(): void {
    if (this.since === 0) return;
    this.log(`Redis reachable again at ${this.where} after ${((Date.now() - this.since) / 1000).toFixed(1)} s (${this.failures} failed attempt(s))`);
    this.since = 0;
    this.failures = 0;
    this.notShown = 0;
  }
}
