/**
 * Reading the input streams with XREADGROUP, behind one interface: on a single node a lean RESP
 * reader (stream-reader.ts; ioredis's reply decoder cost more than the factors) reads every held
 * stream in one command; on Cluster ioredis routes each stream to its node, one command per stream.
 */
import { openRedis, type ConnectOptions, type RedisClient } from '../redis-connect.ts';
import { StreamReader, type Entry } from '../stream-reader.ts';

/** A reply: per stream read, its key and entries. */
export type ReadResult = [string, Entry[]][];

export interface InputReader {
  /**
   * Whether `readAhead` blocks (waiting for entries, so it is already waiting when the next ones
   * come) rather than returning at once when there are none.
   */
  readonly aheadBlocks: boolean;
  /** Entries of `streams` after `id` ('>' = new ones), without blocking. */
  readNow(streams: readonly string[], id?: string): Promise<ReadResult>;
  /** New entries of `streams`, waiting up to blockMs for some. */
  readNew(streams: readonly string[]): Promise<ReadResult | null>;
  /** The read the loop starts while it applies a batch (blocking when `aheadBlocks`). */
  readAhead(streams: readonly string[]): Promise<ReadResult | null>;
  /** One blocking read (on Cluster of one stream, in turn). */
  readBlocking(streams: readonly string[]): Promise<ReadResult | null>;
  close(): void;
}

/** How to read: the consumer group, this consumer, entries per read and how long one blocks. */
export interface ReadParams {
  group: string;
  consumer: string;
  batch: number;
  blockMs: number;
}

/** Single node: one XREADGROUP over every held stream. */
class SingleNodeInput implements InputReader {
  readonly aheadBlocks = true;

  constructor(
    private readonly reader: StreamReader,
    private readonly p: ReadParams,
  ) {}

  async readNow(streams: readonly string[], id = '>'): Promise<ReadResult> {
    return (await this.reader.readGroup(this.p.group, this.p.consumer, this.p.batch, null, streams, streams.map(() => id))) ?? [];
  }

  readNew(streams: readonly string[]): Promise<ReadResult | null> {
    return this.readBlocking(streams);
  }

  readAhead(streams: readonly string[]): Promise<ReadResult | null> {
    return this.readBlocking(streams);
  }

  readBlocking(streams: readonly string[]): Promise<ReadResult | null> {
    return this.reader.readGroup(this.p.group, this.p.consumer, this.p.batch, this.p.blockMs, streams, streams.map(() => '>'));
  }

  close(): void {
    this.reader.close();
  }
}

/** Cluster: the streams live in different slots, one command each. */
class ClusterInput implements InputReader {
  readonly aheadBlocks = false;
  /** The stream the next blocking read waits on. */
  private rr = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly p: ReadParams,
  ) {}

  async readNow(streams: readonly string[], id = '>'): Promise<ReadResult> {
    const g = ['GROUP', this.p.group, this.p.consumer, 'COUNT', this.p.batch] as const;
    const out: ReadResult = [];
    for (const st of streams) {
      const r = (await this.client.xreadgroup(...g, 'STREAMS', st, id)) as ReadResult | null;
      if (r) out.push(...r);
    }
    return out;
  }

  async readNew(streams: readonly string[]): Promise<ReadResult | null> {
    const ready = await this.readNow(streams);
    if (ready.length > 0) return ready;
    return this.readBlocking(streams);
  }

  readAhead(streams: readonly string[]): Promise<ReadResult | null> {
    return this.readNow(streams);
  }

  async readBlocking(streams: readonly string[]): Promise<ReadResult | null> {
    const g = ['GROUP', this.p.group, this.p.consumer, 'COUNT', this.p.batch, 'BLOCK', this.p.blockMs] as const;
    if (streams.length === 1) return (await this.client.xreadgroup(...g, 'STREAMS', streams[0], '>')) as ReadResult | null;
    this.rr = (this.rr + 1) % streams.length;
    return (await this.client.xreadgroup(...g, 'STREAMS', streams[this.rr], '>')) as ReadResult | null;
  }

  close(): void {
    this.client.disconnect();
  }
}

/** Opens the input reader for `url` (`name` is the connection's client name). */
export async function openInput(url: string, cluster: boolean, name: string, connect: ConnectOptions, p: ReadParams): Promise<InputReader> {
  if (cluster) return new ClusterInput(await openRedis(url, { ...connect, name, commandTimeoutMs: (connect.commandTimeoutMs ?? 2000) + p.blockMs }), p);
  return new SingleNodeInput(new StreamReader(url, { ...connect, name: `${name}-in` }), p);
}
