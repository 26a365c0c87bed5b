/**
 * Usage errors through the real CLI (`node bin/lockstep.js ...`) against a real redis-server and
 * real files: each prints ONE line `lockstep: ...` naming what is wrong and exits 2, never a stack.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const DATE = '2024-03-15';
let dir: string;
let cat: string;
let redis: RedisHarness;
let admin: RedisClient;
/** The harness's URL as the ACL user `ro` (read-only). */
let readerUrl: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `untilExit: false` stops it (SIGTERM) once `stop` matches its output. */
function cli(args: string[], stop?: RegExp): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (stop && stop.test(stdout + stderr)) p.kill('SIGTERM');
    };
    p.stdout.on('data', (d) => ((stdout += d.toString()), check()));
    p.stderr.on('data', (d) => ((stderr += d.toString()), check()));
    p.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** One line `lockstep: ...` matching `re` (and, for a flag yargs refused, the --help hint), exit 2, no stack trace. */
function expectOneLine(r: Run, re: RegExp): void {
  expect(r.stderr, r.stderr).toMatch(/^lockstep: [^\n]*\n(\(run with --help for usage\)\n)?$/);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(2);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-errors-'));
  cat = join(dir, 'cat');
  await generateDay({ date: DATE, symbols: 2, seed: 1, preset: 'tiny', out: cat });
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  // a user that may read every key and nothing else (INFO and CLIENT SETNAME too, so that the
  // connection itself works and the command that writes is the one refused)
  await admin.call('ACL', 'SETUSER', 'ro', 'on', '>ropw', '~*', '+@read', '+ping', '+info', '+client|setname');
  readerUrl = redis.url.replace('redis://', 'redis://ro:ropw@');
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('usage errors: one line and exit 2 (issue 21 item 15)', () => {
  it('feed --shards 2 on a 4-shard namespace', async () => {
    await admin.hset('four:meta', 'shards', '4');
    const r = await cli(['feed', '--catalog', cat, '--date', DATE, '--redis', redis.url, '--ns', 'four', '--shards', '2']);
    expectOneLine(r, /four:meta says this deployment has 4 shards.*--shards 2/);
  });

  it('live --shards 0 (and other non-positive or fractional counts)', async () => {
    for (const n of ['0', '-1', '1.5', 'x']) {
      const r = await cli(['live', '--redis', redis.url, '--ns', 'zero', '--shards', n, '--exit-when-idle', '100']);
      expectOneLine(r, /--shards must be a whole number >= 1/);
    }
  });

  it('live --shards 2 on a 4-shard namespace', async () => {
    const r = await cli(['live', '--redis', redis.url, '--ns', 'four', '--shards', '2', '--exit-when-idle', '100']);
    expectOneLine(r, /four:meta says this deployment has 4 shards.*--shards 2/);
  });

  it('serve --port already in use', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await cli(['serve', '--redis', redis.url, '--shards', '2', '--port', String(port)], /serving http/);
      expectOneLine(r, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      busy.close();
    }
  });

  it('replay --resume /nonexistent', async () => {
    const r = await cli(['replay', '--catalog', cat, '--date', DATE, '--resume', '/nonexistent/cp.json', '--out', join(dir, 'r.parquet')]);
    expectOneLine(r, /--resume \/nonexistent\/cp\.json: no such file/);
  });

  it('kill-switch as a read-only user: no permission, and no Lua script printed', async () => {
    const r = await cli(['kill-switch', 'on', '--reason', 'test', '--redis', readerUrl]);
    expectOneLine(r, /NOPERM.*'eval'/);
    expect(r.stderr).not.toMatch(/redis\.call/);
  });

  it('kill-switch status|off when ls:kill has the wrong type; off clears it', async () => {
    await admin.hset('wt:kill', 'all', 'yes');
    const status = await cli(['kill-switch', 'status', '--redis', redis.url, '--ns', 'wt']);
    expectOneLine(status, /wt:kill holds a hash.*kill-switch off/);
    const off = await cli(['kill-switch', 'off', '--redis', redis.url, '--ns', 'wt']);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/off for the deployment/);
    expect(await admin.exists('wt:kill')).toBe(0);
    // and `on` replaces a wrong-typed key
    await admin.hset('wt:kill', 'all', 'yes');
    const on = await cli(['kill-switch', 'on', '--reason', 'drill', '--redis', redis.url, '--ns', 'wt']);
    expect(on.code, on.stderr).toBe(0);
    expect(await admin.type('wt:kill')).toBe('string');
  });

  it('feed and live as a read-only user', async () => {
    const feed = await cli(['feed', '--catalog', cat, '--date', DATE, '--redis', readerUrl, '--shards', '2']);
    expectOneLine(feed, /NOPERM/);
    const live = await cli(['live', '--redis', readerUrl, '--shards', '2', '--exit-when-idle', '100']);
    expectOneLine(live, /NOPERM/);
  });
});

describe('bad input is refused, naming it (issue 21 item 17)', () => {
  it('datasets generate --date 2024-02-30: no such date', async () => {
    const r = await cli(['datasets', 'generate', '--date', '2024-02-30', '--symbols', '1', '--preset', 'tiny', '--out', join(dir, 'feb30')]);
    expectOneLine(r, /2024-02-30.*no such date/);
    expect(existsSync(join(dir, 'feb30'))).toBe(false);
  });

  it('replay --out x.csv: the output is Parquet, so the name must say .parquet', async () => {
    const r = await cli(['replay', '--catalog', cat, '--date', DATE, '--out', join(dir, 'x.csv')]);
    expectOneLine(r, /--out .*x\.csv.*\.parquet/);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('replay --from 16:00 --to 15:00: an empty window', async () => {
    const r = await cli(['replay', '--catalog', cat, '--date', DATE, '--from', '16:00', '--to', '15:00', '--out', join(dir, 'w.parquet')]);
    expectOneLine(r, /--from 16:00 is not before --to 15:00/);
  });

  it('replay --symbols MSFT (absent): names the symbols present', async () => {
    const r = await cli(['replay', '--catalog', cat, '--date', DATE, '--symbols', 'MSFT,SYM000', '--out', join(dir, 's.parquet')]);
    expectOneLine(r, /--symbols MSFT: not in the catalog on 2024-03-15; symbols present: SYM000, SYM001/);
  });

  it('parity diff /nonexistent.parquet B: the file does not exist', async () => {
    const b = join(dir, 'b.parquet');
    writeFileSync(b, '');
    const r = await cli(['parity', 'diff', '/nonexistent.parquet', b]);
    expectOneLine(r, /\/nonexistent\.parquet: no such file/);
  });

  it('replay --catalgo X: the unknown flag is named before any missing one', async () => {
    const r = await cli(['replay', '--catalgo', cat, '--date', DATE, '--out', join(dir, 'u.parquet')]);
    expectOneLine(r, /Unknown argument: catalgo/);
    expect(r.stderr).not.toMatch(/Missing required/);
  });
});

describe('serve says why TLS failed (issue 21 item 16)', () => {
  let tls: RedisHarness;
  beforeAll(async () => {
    tls = await RedisHarness.start({ tls: true });
  }, 60_000);
  afterAll(async () => {
    await tls?.close();
  });

  it('an untrusted server certificate: the reason, as kill-switch status gives it', async () => {
    // the server's CA is not given (no ?tls_ca=): the system CAs do not trust it
    const url = `rediss://127.0.0.1:${tls.port}`;
    const ks = await cli(['kill-switch', 'status', '--redis', url]);
    expectOneLine(ks, /self[- ]signed certificate/);
    const serve = await cli(['serve', '--redis', url, '--shards', '1', '--port', '0'], /serving http/);
    expectOneLine(serve, /cannot connect to Redis at rediss:\/\/127\.0\.0\.1:\d+.*self[- ]signed certificate/);
  });
});
