/**
 * The live bench's peer for tick → served latency: a relay that does the least any Redis Streams
 * consumer must do to make an input visible downstream, and nothing else. Per loop it reads the
 * new entries of every shard with one XREADGROUP (COUNT 512, BLOCK 100: the worker's settings),
 * then writes, per shard, one output entry naming each input (`symbol|source|seq|||input id`, the
 * fields the bench's subscriber matches on) and the XACK of those inputs, pipelined in one socket
 * write; the next read is in flight while that write is (as in the worker). No decoding, fold,
 * latest values, checkpoint or fencing; the lean RESP connections the worker reads with.
 *
 * Run in the same conditions as the worker (its own process; same Redis, feeder and subscriber),
 * its latency is what this machine gives a consumer that computes nothing: the floor under the
 * worker's figures, so the bench can report ours ÷ floor, as the read bench does against a raw
 * HMGET.
 *
 * Usage (the bench spawns it): node --import tsx bench/echo-relay.ts URL NS SHARDS CONSUMER
 */
import { inputStream, outputStream, type KeyLayout } from '../live/keys.ts';
import { encodeCommand, RespConnection, simpleReply } from '../live/resp-connection.ts';
import { StreamReader, type Entry } from '../live/stream-reader.ts';

const GROUP = 'echo';

/** The value of field `name` in a flat field/value list, '' when absent. */
function field(f: readonly string[], name: string): string {
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
  return '';
}

/** One shard's write: its output entry and the ack, as RESP (2 commands). */
function relayCommands(keys: KeyLayout, shard: number, entries: readonly Entry[]): string {
  let rows = '';
  const ids: string[] = [];
  for (const [id, f] of entries) {
    ids.push(id);
    if (f === null) continue;
    if (rows !== '') rows += '\n';
    rows += `${field(f, 's')}|${field(f, 'k')}|${field(f, 'q')}|||${id}`;
  }
  return encodeCommand(['XADD', outputStream(keys, shard), '*', 'rows', rows]) + encodeCommand(['XACK', inputStream(keys, shard), GROUP, ...ids]);
}

/** Relays until SIGTERM; prints `running shards` once its group exists (the bench waits for it). */
export async function runEchoRelay(url: string, keys: KeyLayout, consumer: string): Promise<void> {
  const reader = new StreamReader(url, { commandTimeoutMs: 10_000 });
  const writer = new RespConnection(url, { commandTimeoutMs: 10_000 });
  const ins = Array.from({ length: keys.shards }, (_, s) => inputStream(keys, s));
  for (const s of ins) {
    await writer.request(encodeCommand(['XGROUP', 'CREATE', s, GROUP, '0', 'MKSTREAM']), 1, simpleReply).catch((e: Error) => {
      if (!/BUSYGROUP/.test(e.message)) throw e;
    });
  }
  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  process.stderr.write(`echo relay ${consumer}: running shards ${ins.map((_, s) => s).join(',')}\n`);
  let inFlight: Promise<unknown> | null = null;
  const pending = ins.map(() => '>');
  while (!stopping) {
    const res = await reader.readGroup(GROUP, consumer, 512, 100, ins, pending);
    if (inFlight !== null) await inFlight;
    inFlight = null;
    if (res === null) continue;
    let text = '';
    let n = 0;
    for (const [key, entries] of res) {
      if (entries.length === 0) continue;
      text += relayCommands(keys, ins.indexOf(key), entries);
      n += 2;
    }
    if (n > 0) inFlight = writer.request(text, n, simpleReply);
  }
  if (inFlight !== null) await inFlight;
  reader.close();
  writer.close();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const [url, ns, shards, consumer] = process.argv.slice(2);
  runEchoRelay(url, { ns, shards: Number(shards) }, consumer ?? 'echo-1').then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`echo relay: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
