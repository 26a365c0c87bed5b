/**
 * The dashboard under load, in a real headless Chromium: `lockstep serve --dashboard` (the real
 * CLI) over a private redis-server, the factors grid open, N symbols × 30 factors written 10 times
 * a second as the workers write latest values. Prints the time from a Redis write to the value on
 * screen and the browser's own frame times, with the same page idle for the same time as the peer.
 *
 * Then one symbol's page while `hot` symbols (default 1000: 10k rows/s) are written at the same rate:
 * the time from a write of the watched symbol to its value on screen.
 *
 *   node --import tsx bench/dashboard-bench.ts [seconds=10] [symbols=50] [hot=1000]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestPairs } from '../live/commit-script.ts';
import { latestKey, metaKey, type KeyLayout } from '../live/keys.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { latestRow } from '../live/worker/row-format.ts';
import { chromiumSkipReason, launchChromium } from '../dashboard/chromium.ts';
import { measureLoad } from '../dashboard/measure.ts';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 10);
const nSymbols = Number(process.argv[3] ?? 50);
const nHot = Number(process.argv[4] ?? 1000);
if (chromiumSkipReason) {
  console.log(chromiumSkipReason);
  process.exit(0);
}
const keys: KeyLayout = { ns: 'ls', shards: 4 };
const columns = Array.from({ length: 30 }, (_, i) => (i === 0 ? 'last_price' : `f${String(i).padStart(2, '0')}`));
const symbols = Array.from({ length: nSymbols }, (_, i) => `SYM${String(i).padStart(3, '0')}`);
const redis = await RedisHarness.start();
const r = await openRedis(redis.url);
await r.hset(metaKey(keys), 'shards', '4', 'columns', columns.join(','), 'featureSetVersion', 'bench');
let seq = 0;
const hot = Array.from({ length: nHot }, (_, i) => `HOT${String(i).padStart(4, '0')}`);
const tick = (list: string[]) => async (k: number, now: number): Promise<string[]> => {
  const p = r.pipeline();
  const out: string[] = [];
  for (const [i, s] of list.entries()) {
    seq++;
    const te = 1710511200000000000n + BigInt(seq) * 1000n;
    const packed = columns.map((_, c) => (100 + i + c + k / 1000).toFixed(4)).join(',');
    p.hset(latestKey(keys, s), ...latestPairs(`${seq}-0`, latestRow({ id: `${seq}-0`, kind: 'trade', seq: BigInt(seq), tsEvent: te, tsRecv: te, packed }, 'bench', String(now)), columns));
    out.push(`${s}|${te}`);
  }
  await p.exec();
  return out;
};
await tick(symbols)(0, Date.now());
const serve = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--redis', redis.url, '--shards', '4', '--port', '0', '--dashboard'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise<string>((done) => {
  let out = '';
  serve.stdout!.on('data', (d) => {
    out += d.toString();
    const m = /dashboard (http:\/\/[^/]+)\/dashboard/.exec(out);
    if (m) done(m[1]);
  });
});
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(`${base}/dashboard/factors`);
  await page.waitForFunction(`window.__dash.grid && window.__dash.grid.rows === ${nSymbols}`, { timeout: 20_000 });
  const idle = await measureLoad(page, seconds * 1000, async () => []);
  const busy = await measureLoad(page, seconds * 1000, tick(symbols));
  await tick(hot)(0, Date.now());
  await page.goto(`${base}/dashboard/factors/${hot[0]}`);
  await page.waitForSelector('#f-last_price');
  const one = await measureLoad(page, seconds * 1000, tick(hot));
  console.log(`dashboard grid, ${nSymbols} symbols x 30 factors, ${seconds} s each:`);
  console.log(`  idle page (peer):      frame time p50 ${idle.frameMs.p50.toFixed(1)} ms, p99 ${idle.frameMs.p99.toFixed(1)} ms; long tasks ${idle.longTasks.count}`);
  console.log(`  10 updates/s a symbol: ${busy.line}`);
  console.log(`one symbol's page while ${nHot} symbols x 30 factors are written 10 times a second (${nHot * 10} rows/s): ${one.line}`);
} finally {
  await browser.close();
  serve.kill('SIGTERM');
  r.disconnect();
  await redis.close();
}
