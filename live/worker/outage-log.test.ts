import { describe, expect, it } from 'vitest';
import { describeRedisFailure, OutageLog, redisWhere } from './outage-log.ts';

describe('OutageLog', () => {
  it('says an outage once in its words, repeats it with the count of lines not shown, and says when it ends', () => {
    const lines: string[] = [];
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    // everyMs 0: every later failure may print its line; 1e9: none may
    const quiet = new OutageLog((m) => lines.push(m), '127.0.0.1:6379', 2000, 1e9);
    for (let i = 0; i < 50; i++) quiet.failed('read', offline);
    quiet.ok();
    quiet.ok();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('Redis unreachable at 127.0.0.1:6379: not connected (read); retrying');
    expect(lines[1]).toMatch(/^Redis reachable again at 127\.0\.0\.1:6379 after \d+\.\d s \(50 failed attempt\(s\)\)$/);
    lines.length = 0;
    const loud = new OutageLog((m) => lines.push(m), 'h:1', 300, 0);
    loud.failed('read', new Error('Command timed out'));
    loud.failed('shard(s) 0: commit', new Error('Command timed out'));
    expect(lines[1]).toMatch(/^Redis still unreachable at h:1 after \d+ s: no answer within 300 ms \(shard\(s\) 0: commit\); retrying \(0 failure\(s\) since the last line\)$/);
  });

  it('names Redis by host:port, without credentials or query', () => {
    expect(redisWhere('rediss://user:secret@10.0.0.5:6380/?tls_ca=/x.pem')).toBe('10.0.0.5:6380');
    expect(redisWhere('redis://h1:7000,h2:7001')).toBe('h1:7000,h2:7001');
  });

  it("says ioredis's own failures in Lockstep's words (a commit refused while disconnected, not only a read)", () => {
    const maxRetries = new Error('Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.');
    expect(describeRedisFailure(maxRetries, 2000)).toBe('not connected');
    expect(describeRedisFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'), 2000)).toBe('connection refused');
  });
});
