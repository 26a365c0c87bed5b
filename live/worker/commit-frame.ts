/**
 * A commit script call (commit-script.ts COMMIT_BATCH_LUA) from what the committer planned: as the
 * bytes of its RESP arguments for the lean connection (CommitFrameEncoder, written straight into
 * one buffer: no string per argument, the rows copied once from the shard's batch), or as ioredis
 * arguments (shardArgv, through shardCommitArgs). Both give Redis the same arguments byte for
 * byte (commit-frame.test.ts checks the frame against encodeCommandMixed of shardArgv's).
 */
import { latestWrite, shardCommitArgs, type LatestWrite } from '../commit-script.ts';
import { encodeBulks, RespWriter, utf8Length } from './byte-writer.ts';

/** One symbol's latest-value write, before encoding (commit-script.ts latestWrite). */
export interface LatestPart {
  key: string;
  /** Input ID of the row (`_in`). */
  inId: string;
  kind: string;
  seq: bigint;
  tsEvent: bigint;
  tsRecv: bigint;
  /** The row's values' texts, one per column. */
  text: readonly string[];
  /** The values last sent for the symbol, if any, and their row's input ID (the base; '' without). */
  prev: readonly string[] | undefined;
  base: string;
}

/** One shard's part of a commit call, before encoding (commit-script.ts ShardCommit). */
export interface ShardPart {
  /** Lease, output stream, checkpoint, input stream, dead-letter stream. */
  keys: readonly string[];
  lastId: string;
  expectedPrev: string;
  stateId: string;
  deadLetters: readonly (readonly string[])[];
  rowCount: number;
  /** The rows, one per line (a view of the shard's batch: encode before it is written again). */
  rows: Uint8Array;
  latest: readonly LatestPart[];
  acks: readonly string[];
  state: string | Buffer;
  /** Computed-at of the latest values (ms, the plan's wall time). */
  at: string;
}

/**
 * A call's arguments after the script or its SHA: `args` RESP bulk strings in `body` (numkeys
 * first). `body` starts after FRAME_ROOM bytes of `buf`, left free for the command's own head (its
 * array header, EVALSHA and the SHA), so that the whole call goes out as one Buffer.
 */
export interface CommitFrame {
  args: number;
  buf: Buffer;
  body: Buffer;
}

/** Room for `*<args>\r\n$7\r\nEVALSHA\r\n$40\r\n<sha>\r\n` (69 bytes with up to 9 digits). */
export const FRAME_ROOM = 80;

/** `_row` of a latest-value hash (row-format.ts latestRow). */
function latestRowText(l: LatestPart, fsv: string, at: string): string {
  return `${l.tsEvent}|${l.tsRecv}|${l.seq}|${l.kind}|${at}|${fsv}|${l.text.join(',')}`;
}

function checkWidth(l: LatestPart, columns: number): void {
  // a latest row with other than one value per column is a worker bug: never written
  if (l.text.length !== columns) throw new Error(`latest row of ${l.key} has ${l.text.length} values for ${columns} columns`);
}

/** A shard's keys and arguments for ioredis (Cluster, durable replicas), as commit-script.ts lays them out. */
export function shardArgv(p: ShardPart, columns: readonly string[], fsv: string): { keys: string[]; argv: (string | Buffer)[]; writes: LatestWrite[] } {
  const keys = [...p.keys];
  const writes: LatestWrite[] = [];
  for (const l of p.latest) {
    keys.push(l.key);
    checkWidth(l, columns.length);
    const { write } = latestWrite(l.inId, latestRowText(l, fsv, p.at), columns, l.prev === undefined ? undefined : { inId: l.base, values: l.prev });
    writes.push(write);
  }
  const argv = shardCommitArgs({ lastId: p.lastId, expectedPrev: p.expectedPrev, stateId: p.stateId, deadLetters: p.deadLetters, rows: { count: p.rowCount, bytes: Buffer.from(p.rows) }, latest: writes, acks: p.acks, state: p.state });
  return { keys, argv, writes };
}

const META = ['_in', '_te', '_tr', '_seq', '_src', '_fsv', '_at'];

export class CommitFrameEncoder {
  private readonly keys = new RespWriter(4 * 1024);
  private readonly argv = new RespWriter(64 * 1024);
  /** token, group, ttl, feature-set version, column list: the same in every call. */
  private readonly common: Buffer;
  /** Each column's name as a bulk string. */
  private readonly columnBulks: Buffer[];
  private readonly metaBulks: Buffer[];
  private readonly rowBulk = encodeBulks(['_row']);
  /** Each shard's five keys, encoded once. */
  private readonly shardKeys = new Map<string, Buffer>();

  constructor(
    private readonly columns: readonly string[],
    private readonly fsv: string,
    common: { token: string; group: string; ttlSeconds: number },
  ) {
    this.common = encodeBulks([common.token, common.group, String(common.ttlSeconds), fsv, columns.join(',')]);
    this.columnBulks = columns.map((c) => encodeBulks([c]));
    this.metaBulks = META.map((m) => encodeBulks([m]));
  }

  /** The call committing `parts` (one script call, the parts in order). */
  encode(parts: readonly ShardPart[]): CommitFrame {
    const k = this.keys;
    const a = this.argv;
    k.reset();
    a.reset();
    for (const p of parts) {
      const sk = p.keys.join('\0');
      let pre = this.shardKeys.get(sk);
      if (pre === undefined) {
        if (this.shardKeys.size >= 10_000) this.shardKeys.clear();
        this.shardKeys.set(sk, (pre = encodeBulks(p.keys)));
      }
      k.pre(pre, p.keys.length);
      for (const l of p.latest) k.bulkStr(l.key);
      this.shard(p);
    }
    const head = new RespWriter(64);
    head.bulkInt(k.count);
    const tail = new RespWriter(32);
    tail.bulkInt(parts.length);
    const buf = Buffer.allocUnsafe(FRAME_ROOM + head.len + k.len + this.common.length + tail.len + a.len);
    const body = buf.subarray(FRAME_ROOM);
    let pos = head.buf.copy(body, 0, 0, head.len);
    pos += k.buf.copy(body, pos, 0, k.len);
    pos += this.common.copy(body, pos);
    pos += tail.buf.copy(body, pos, 0, tail.len);
    a.buf.copy(body, pos, 0, a.len);
    return { args: 1 + k.count + 5 + 1 + a.count, buf, body };
  }

  /** A shard's arguments (commit-script.ts shardCommitArgs). */
  private shard(p: ShardPart): void {
    const a = this.argv;
    a.bulkInt(p.latest.length);
    a.bulkStr(p.lastId);
    a.bulkStr(p.expectedPrev);
    a.bulkStr(p.stateId);
    a.bulkInt(p.deadLetters.length);
    for (const d of p.deadLetters) {
      a.bulkInt(d.length);
      for (const x of d) a.bulkStr(x);
    }
    a.bulkInt(p.rowCount);
    a.bulkBytes(p.rows);
    for (const l of p.latest) this.latest(l, p.at);
    a.bulkInt(p.acks.length);
    for (const id of p.acks) a.bulkStr(id);
    if (typeof p.state === 'string') a.bulkStr(p.state);
    else a.bulkBytes(p.state);
  }

  /** A symbol's latest-value write (commit-script.ts latestWrite): nPairs, base, the pairs. */
  private latest(l: LatestPart, at: string): void {
    const a = this.argv;
    const cols = this.columnBulks;
    const text = l.text;
    const n = cols.length;
    checkWidth(l, n);
    const prev = l.prev !== undefined && l.prev.length === n ? l.prev : null;
    let changed = n;
    if (prev !== null) {
      changed = 0;
      for (let c = 0; c < n; c++) if (prev[c] !== text[c]) changed++;
    }
    a.bulkInt(8 + changed);
    a.bulkStr(l.prev === undefined ? '' : l.base);
    const te = String(l.tsEvent);
    const tr = String(l.tsRecv);
    const seq = String(l.seq);
    const meta = [l.inId, te, tr, seq, l.kind, this.fsv, at];
    for (let m = 0; m < meta.length; m++) {
      a.pre(this.metaBulks[m], 1);
      a.bulkStr(meta[m]);
    }
    let valuesLen = n > 0 ? n - 1 : 0;
    for (let c = 0; c < n; c++) {
      const t = text[c];
      valuesLen += t.length;
      if (prev !== null && prev[c] === t) continue;
      a.pre(cols[c], 1);
      a.bulkStr(t);
    }
    // `_row`: te|tr|seq|source|at|fsv|v1,v2,... (values are ASCII: their length is their bytes)
    a.pre(this.rowBulk, 1);
    a.bulkHead(te.length + tr.length + seq.length + utf8Length(l.kind) + at.length + utf8Length(this.fsv) + 6 + valuesLen);
    for (const x of [te, tr, seq, l.kind, at, this.fsv]) {
      a.str(x);
      a.byte(0x7c);
    }
    for (let c = 0; c < n; c++) {
      if (c > 0) a.byte(0x2c);
      a.str(text[c]);
    }
    a.crlf();
  }
}
