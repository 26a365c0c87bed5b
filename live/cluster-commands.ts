/**
 * Why Lockstep sends no ioredis pipeline or MULTI to a Redis Cluster, and what it sends instead.
 *
 * In ioredis 6 a Cluster pipeline (MULTI is one too) picks its node when its first command is
 * sent. During a master failover the slot's node can be missing from the client's pool (the dead
 * master was dropped, the replica not yet promoted): each command then goes to a random master,
 * and one whose connection is not ready is refused at once, before it is written. The commands
 * already queued on another node's connection are then never sent, but stay in that connection's
 * reply queue: every later reply on that healthy connection goes to the command queued before it.
 * Seen in live/cluster.test.ts: after a failover `alerts watch` timed out on every check for good
 * (three phantom commands at the head of a live master's queue), and a reader could as well have
 * been handed another key's reply. Single commands have no such state: each is routed, redirected
 * (MOVED) and retried on its own, so on Cluster the readers and alerts watch send single
 * commands, together. ioredis retries a single command by itself (after a closed connection,
 * MOVED, CLUSTERDOWN) without the caller knowing: harmless for reads and for alerts watch's
 * idempotent writes, not for the feed, whose lost-writes check needs to see every failure (it
 * still pipelines its XADDs).
 */
import type { Cluster } from 'ioredis';

/** One command: its name and arguments. */
export type ClusterCmd = readonly [string, ...(string | number | Buffer)[]];

/** A command's reply or its error, as a pipeline's `exec` gives them. */
export type CmdReply = [Error | null, unknown];

/**
 * Sends `cmds` as single commands, all at once (one round trip's wait, not one each), and
 * returns each one's reply or error in order, as a pipeline's `exec` would.
 */
export function callEach(r: Cluster, cmds: readonly ClusterCmd[]): Promise<CmdReply[]> {
  return Promise.all(cmds.map(([name, ...args]) => r.call(name, ...args).then((v): CmdReply => [null, v], (e: Error): CmdReply => [e, null])));
}

/**
 * Sends `cmds` one after the other (each once the previous has answered), stopping at the first
 * error, which is the last reply returned: for writes whose order matters.
 */
export async function callInOrder(r: Cluster, cmds: readonly ClusterCmd[]): Promise<CmdReply[]> {
  const out: CmdReply[] = [];
  for (const [name, ...args] of cmds) {
    try {
      out.push([null, await r.call(name, ...args)]);
    } catch (e) {
      out.push([e as Error, null]);
      break;
    }
  }
  return out;
}
