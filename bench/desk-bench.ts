/**
 * Fills per second through one `lockstep desk` process (trading/desk-live.ts: read `<ns>:fills`,
 * decode, the watermark merge, the ledger, the MULTI with its progress), against a peer measured
 * in the same run on the same redis-server: a raw XRANGE read of the same entries (what any
 * consumer of the stream pays before doing anything with it).
 *
 *   npx tsx bench/desk-bench.ts [fills=50000]
 *
 * One shard with a fake deployment (meta, a few output rows marking 3 symbols, a final row far
 * ahead as the shard's watermark), N fills on 3 symbols with a heartbeat every 100 fills.
 */
import { RedisHarness } from '../live/redis-harness.ts';
import { openRedis } from '../live/redis-connect.ts';
import { fillsStream, metaKey, outputStream } from '../live/keys.ts';
import { runDesk } from '../trading/desk-live.ts';
import { parseInstruments } from '../trading/instruments.ts';
import { DEFAULT_VAR } from '../trading/ledger.ts';
import { noLimits } from '../trading/limits.ts';

const N = Number(process.argv[2] ?? 50_000);
const keys = { ns: 'bd', shards: 1 };
const redis = await RedisHarness.start();
const r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
try {
  const t0 = 1_710_509_400_000_000_000n;
  await r.hset(metaKey(keys), 'shards', '1', 'columns', 'mid,rv_5m');
  const syms = ['AAA', 'BBB', 'CCC'];
  const rows = syms.map((s, i) => `${s}|quote|${i}|${t0}|${t0}|0-1|${100 + i}.005,0.001`);
  rows.push(`AAA|quote|9|${t0 + 10n ** 13n}|${t0 + 10n ** 13n}|0-2|100.5,0.001`);
  await r.xadd(outputStream(keys, 0), '*', 'rows', rows.join('\n'));
  let p = r.pipeline();
  for (let i = 0; i < N; i++) {
    const ts = t0 + 1n + BigInt(i) * 1_000_000n;
    p.xadd(fillsStream(keys), '*', 'fill_id', `f${i}`, 'account', 'a', 'strategy', i % 2 ? 'mm' : 'tr', 'symbol', syms[i % 3], 'side', i % 3 === 2 ? 'sell' : 'buy', 'qty', String(1 + (i % 7)), 'price', `${100 + (i % 3)}.${String(i % 100).padStart(2, '0')}`, 'fee', '0.01', 'order_id', '', 'ts_event', String(ts), 'ts_recv', String(ts));
    if (i % 100 === 99) p.xadd(fillsStream(keys), '*', 'kind', 'heartbeat', 'ts_recv', String(ts + 1n));
    if (i % 5000 === 4999) {
      await p.exec();
      p = r.pipeline();
    }
  }
  await p.exec();
  // peer: read every entry once, raw
  const p0 = performance.now();
  let from = '-';
  let n = 0;
  for (;;) {
    const b = (await r.xrange(fillsStream(keys), from, '+', 'COUNT', 2000)) as [string, string[]][];
    if (b.length === 0) break;
    n += b.length;
    from = `(${b[b.length - 1][0]}`;
  }
  const peerMs = performance.now() - p0;
  const ins = parseInstruments({ default: { tick: 0.01, lot: 1 } }, 'bench');
  const d0 = performance.now();
  let doneAt = 0;
  const s = await runDesk({ url: redis.url, ns: keys.ns, cfg: { ledger: { instruments: ins, mark: 'mid', ...DEFAULT_VAR }, limits: noLimits() }, idleStopMs: 300, pollMs: 5, onWrite: () => (doneAt = performance.now()) });
  const deskMs = doneAt - d0;
  const fps = (s.fills / deskMs) * 1000;
  const peer = (N / peerMs) * 1000;
  console.log(`desk: ${s.fills} fills applied (${s.deadLettered} dead-lettered, ${n} entries incl. heartbeats) in ${deskMs.toFixed(0)} ms = ${Math.round(fps).toLocaleString('en-US')} fills/s`);
  console.log(`peer (raw XRANGE of the same entries): ${Math.round(peer).toLocaleString('en-US')} fills/s; desk/peer = ${(fps / peer).toFixed(2)}`);
} finally {
  r.disconnect();
  await redis.close();
}
