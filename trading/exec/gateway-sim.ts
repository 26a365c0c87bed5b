/**
 * `lockstep gateway --sim --redis URL --ns NS`: a test order gateway. It reads the child orders and
 * cancels of `<ns>:orders` (exec-wire.ts), plays them against the fill simulator (trading/sim/, one
 * per symbol, fed by the raw events of every shard's input stream) and writes the fills to
 * `<ns>:fills` (trading/fills-wire.ts, with `parent_id` and `order_id`), the answers to cancels to
 * `<ns>:exec:reports` (exec-wire.ts: lots taken off the book, or too late: the child had filled),
 * and, every poll, a heartbeat on both at the latest market time it has read: no fill or report of
 * an earlier time will follow. A child's fills made before its cancel arrived come before the
 * cancel's report (in time; a tie puts the fills stream first in the algorithm's merge).
 *
 * Timing: the gateway follows the input streams as fast as it reads them; an order reaches the
 * simulator at its decision time plus the entry latency, or, when the simulator's market is past
 * that already, at the market's time (it came late). A fill's or report's ts_recv is the
 * simulator's (made + response latency) but never before the gateway's last heartbeat nor its
 * previous fill or report. So a live
 * run's fills depend on wall-clock timing; what is deterministic is the algorithm given the fills
 * (`lockstep execute --fills` reproduces its orders from them).
 *
 * Restart (after SIGKILL or a Redis error): it resumes from its checkpoint in `<ns>:gateway` and
 * `<ns>:gateway:journal` (gateway-checkpoint.ts; a write costs what changed, not the orders seen),
 * written in the same MULTI as every batch of fills, reports and heartbeats: the orders and market events read after it are read again and played against the
 * simulators as they stood, so no fill is written twice and no order read is lost (a fill's time
 * may differ from an uninterrupted run's: the gateway's pace is wall-clock's).
 */
import { UserError } from '../../core/errors.ts';
import { decodeEvent } from '../../live/wire.ts';
import { execClocksKey, execReportsStream, fillsStream, gatewayKey, inputStream, metaKey, ordersStream, type KeyLayout } from '../../live/keys.ts';
import { openRedis } from '../../live/redis-connect.ts';
import { isTransientRedisError } from '../../live/redis-errors.ts';
import { encodeFillFields, heartbeatFields } from '../fills-wire.ts';
import { instrumentOf, type Instruments } from '../instruments.ts';
import * as sim from '../sim/index.ts';
import type { Fill } from '../types.ts';
import { decodeOrderFields, encodeReportFields } from './exec-wire.ts';
import { decodeGatewayState, encodeGatewayHead, encodeGatewaySegment, gatewayDelta, gatewayFull, gatewayHeadSegs, type GatewayState } from './gateway-checkpoint.ts';
import { journalToMulti, newJournal, planJournal, readJournal, type Journal } from './ckpt-journal.ts';
import type { CancelReport } from './types.ts';
import { queueModel } from './run-execute.ts';

export interface GatewayOptions {
  url: string;
  ns: string;
  ins: Instruments;
  /** Queue model name (run-execute.ts `queueModel`); default risk-averse. */
  queue?: string;
  latency: sim.Latency;
  makerBps?: number;
  takerBps?: number;
  account?: string;
  log?: (s: string) => void;
  pollMs?: number;
  /**
   * Pacing: while execution algorithms run (`<ns>:exec:clocks`), the market is played at most this
   * far (event time, ns) past the slowest one's decisions, so their orders reach the simulated
   * venue about when they would have; default 2 s. 0n: no pacing.
   */
  leadNs?: bigint;
  /** Stop after this long without any new entry once something was read, ms (tests; default: until SIGTERM/SIGINT). */
  idleStopMs?: number;
}

export class GatewayError extends UserError {}

/** The list of the checkpoint's segments (ckpt-journal.ts), next to `<ns>:gateway`. */
export const gatewayJournalKey = (k: { ns: string }): string => `${gatewayKey(k)}:journal`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Batch = [string, string[]][];

/** Runs until stopped; resolves with the counts. */
export async function runGatewaySim(o: GatewayOptions): Promise<{ orders: number; fills: number; reports: number; refused: number }> {
  const log = o.log ?? (() => {});
  const queue = queueModel(o.queue ?? 'risk-averse');
  const r = await openRedis(o.url, { name: 'lockstep-gateway', commandTimeoutMs: 10_000 });
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const stats = { orders: 0, fills: 0, reports: 0, refused: 0 };
  let sims = new Map<string, sim.SimState>();
  let parentOf = new Map<string, string>();
  // the parents set since the last checkpoint written (its journal's next segment, with the simulators' knownLog)
  let parentLog: [string, string][] = [];
  let journal: Journal = newJournal();
  const setParent = (id: string, p: string) => {
    parentOf.set(id, p);
    parentLog.push([id, p]);
  };  const simFor = (symbol: string): sim.SimState | null => {
    let s = sims.get(symbol);
    if (s) return s;
    const inst = instrumentOf(o.ins, symbol);
    if (!inst) return null;
    s = sim.createSimulator({ instrument: { symbol, tick: inst.tick, lot: inst.lot, multiplier: inst.multiplier }, queueModel: queue, latency: o.latency, account: o.account ?? 'sim', strategy: 'gateway', fees: { makerBps: o.makerBps ?? 0, takerBps: o.takerBps ?? 0, grid: o.ins.moneyGrid } });
    s.knownLog = [];
    sims.set(symbol, s);
    return s;
  };
  try {
    let shards = 0;
    while (!stop && shards === 0) {
      shards = Number((await r.hget(metaKey({ ns: o.ns, shards: 0 }), 'shards')) ?? 0);
      if (shards === 0) await sleep(100);
    }
    const keys: KeyLayout = { ns: o.ns, shards };
    let inFrom = new Array<string>(shards).fill('-');
    // market events read but not played yet (pacing), per shard
    let held: import('../../core/events.ts').MarketEvent[][] = Array.from({ length: shards }, () => []);
    const leadNs = o.leadNs ?? 2_000_000_000n;
    let ordersFrom = '-';
    let now: bigint | null = null;
    let lastHb: bigint | null = null;
    // the last fill's or report's ts_recv: what the gateway writes only moves forward in time
    let lastOut = 0n;
    /** Back to the last checkpoint written (at start, and after a MULTI that may not have been). */
    const restore = async () => {
      const bytes = await r.hgetBuffer(gatewayKey(keys), 'ckpt');
      const segs = bytes === null ? 0 : gatewayHeadSegs(bytes, shards);
      const list = typeof segs === 'number' ? await readJournal(r, gatewayJournalKey(keys), segs) : segs.refused;
      const saved = bytes === null ? null : typeof list === 'string' ? { refused: list } : decodeGatewayState(bytes, list, shards);
      if (saved !== null && 'refused' in saved) throw new GatewayError(`${gatewayKey(keys)}: the checkpoint cannot be used (${saved.refused}); delete it and ${gatewayJournalKey(keys)} to start the venue over`);
      parentLog = [];
      journal = typeof list === 'string' ? newJournal() : { segs: list.length, baseN: 0, deltaN: 0 };
      if (saved === null) {
        // nothing written yet (every write carries the checkpoint): start from the beginning
        ({ sims, parentOf, inFrom, held, ordersFrom, now, lastHb, lastOut } = { sims: new Map(), parentOf: new Map(), inFrom: new Array<string>(shards).fill('-'), held: Array.from({ length: shards }, () => []), ordersFrom: '-', now: null, lastHb: null, lastOut: 0n } as GatewayState);
        return;
      }
      ({ sims, parentOf, inFrom, held, ordersFrom, now, lastHb, lastOut } = saved);
      for (const s of sims.values()) s.knownLog = [];
      log(`gateway: resuming from its checkpoint (orders after ${ordersFrom}, market at ts_recv ${now ?? 'none'}, ${[...sims.values()].reduce((a, s) => a + s.resting.size, 0)} orders resting)`);
    };
    await restore();
    const state = (): GatewayState => ({ sims, parentOf, inFrom, held, ordersFrom, now, lastHb, lastOut });
    let idleSince = Date.now();
    log(`gateway: simulating the venue for ${o.ns} (${shards} shards, ${sim.queueModelName(queue)} queue)`);
    let stale = false;
    while (!stop) {
      let progressed = false;
      try {
        if (stale) {
          await restore();
          stale = false;
        }
        // orders first: what was decided on the events read so far reaches the venue before later ones
        for (;;) {
          const batch = (await r.xrange(ordersStream(keys), ordersFrom, '+', 'COUNT', 1000)) as Batch;
          if (batch.length === 0) break;
          ordersFrom = `(${batch[batch.length - 1][0]}`;
          progressed = true;
          for (const [id, f] of batch) {
            const a = decodeOrderFields(f);
            const refuse = (why: string) => {
              stats.refused++;
              log(`gateway: ${ordersStream(keys)} entry ${id} refused: ${why}`);
            };
            if ('bad' in a) {
              refuse(a.bad);
              continue;
            }
            const s = simFor(a.type === 'new' ? a.order.symbol : a.cancel.symbol);
            if (!s) {
              refuse(`symbol ${a.type === 'new' ? a.order.symbol : a.cancel.symbol}: unknown (not in the instruments and no default)`);
              continue;
            }
            try {
              if (a.type === 'new') {
                setParent(a.order.id, a.order.parentId);
                sim.submit(s, a.order);
                stats.orders++;
              } else {
                if (!parentOf.has(a.cancel.id)) setParent(a.cancel.id, a.cancel.parentId);
                sim.cancel(s, a.cancel);
              }
            } catch (e) {
              if (!(e instanceof sim.SimInputError)) throw e;
              refuse(e.message);
            }
          }
        }
        // then the market, one batch per shard, played up to the pace of the slowest algorithm
        const clocks = leadNs > 0n ? ((await r.hvals(execClocksKey(keys))) as string[]).filter((v) => /^\d+$/.test(v)).map(BigInt) : [];
        const limit = clocks.length === 0 ? null : clocks.reduce((m, t) => (t < m ? t : m)) + leadNs;
        for (let sh = 0; sh < shards; sh++) {
          if (held[sh].length < 2000) {
            const batch = (await r.xrange(inputStream(keys, sh), inFrom[sh], '+', 'COUNT', 2000)) as Batch;
            if (batch.length > 0) {
              inFrom[sh] = `(${batch[batch.length - 1][0]}`;
              for (const [, f] of batch) {
                const d = decodeEvent(f);
                if (d.ok) held[sh].push(d.event);
              }
            }
          }
          let i = 0;
          for (; i < held[sh].length; i++) {
            const ev = held[sh][i];
            if (limit !== null && ev.tsRecv > limit) break;
            progressed = true;
            if (now === null || ev.tsRecv > now) now = ev.tsRecv;
            if (ev.kind === 'heartbeat') continue;
            const s = simFor(ev.symbol);
            if (s && (s.now === null || ev.tsRecv >= s.now)) sim.onMarket(s, ev);
          }
          held[sh].splice(0, i);
          // paced: nothing up to the limit is left unplayed, so the clock (and the heartbeat) is there
          if (limit !== null && (held[sh].length > 0 || i > 0) && (now === null || limit > now) && held[sh].length > 0) now = limit;
        }
        if (now !== null) {
          const out: string[][] = [];
          const reps: string[][] = [];
          for (const [symbol, s] of sims) {
            sim.advance(s, now);
            for (const rep of sim.drain(s, now)) {
              if (rep.type === 'ack') continue;
              // never before what was promised (the heartbeat) or written (the previous fill or report)
              let t = rep.tsRecv;
              if (lastHb !== null && t < lastHb) t = lastHb;
              if (t < lastOut) t = lastOut;
              lastOut = t;
              if (rep.type === 'fill') {
                const fill: Fill = { ...rep.fill, tsRecv: t };
                out.push(encodeFillFields(fill, o.ins, parentOf.get(fill.orderId)));
                continue;
              }
              const parentId = parentOf.get(rep.orderId);
              if (parentId === undefined) continue;
              const result: CancelReport['result'] = rep.type === 'cancelled' ? (rep.reason === 'cancel' ? 'cancelled' : 'unfilled') : rep.reason === 'already complete' ? 'too-late' : 'unknown';
              reps.push(encodeReportFields({ orderId: rep.orderId, parentId, symbol, lots: rep.type === 'cancelled' ? rep.leaves : 0, result, tsEvent: rep.tsEvent, tsRecv: t }));
            }
          }
          if (out.length > 0 || reps.length > 0 || lastHb === null || now > lastHb) {
            const m = r.multi();
            for (const f of out) m.xadd(fillsStream(keys), '*', ...f);
            for (const f of reps) m.xadd(execReportsStream(keys), '*', ...f);
            m.xadd(fillsStream(keys), '*', ...heartbeatFields(now));
            m.xadd(execReportsStream(keys), '*', ...heartbeatFields(now));
            // what this MULTI writes and the state after it, together: a restart resumes right here
            const g = { ...state(), lastHb: now };
            const delta = gatewayDelta(g, parentLog);
            const total = [...sims.values()].reduce((a, x) => a + x.known.size, 0) + parentOf.size;
            const plan = planJournal(journal, delta.length, total, () => encodeGatewaySegment(delta), () => encodeGatewaySegment(gatewayFull(g)));
            journalToMulti(m, gatewayJournalKey(keys), journal, plan);
            m.hset(gatewayKey(keys), 'ckpt', encodeGatewayHead(g, plan.next.segs), 'at', String(Date.now()));
            const res = await m.exec();
            for (const [err] of res ?? []) if (err) throw err;
            journal = plan.next;
            for (const x of sims.values()) x.knownLog = [];
            parentLog = [];
            stats.fills += out.length;
            stats.reports += reps.length;
            lastHb = now;
          }
        }
      } catch (e) {
        if (!isTransientRedisError(e)) throw e;
        log(`gateway: redis: ${(e as Error).message}; retrying from the checkpoint`);
        await sleep(200);
        // whether the MULTI was applied or not, the checkpoint says where the streams stand
        stale = true;
        continue;
      }
      if (progressed) idleSince = Date.now();
      else if (o.idleStopMs !== undefined && Date.now() - idleSince >= o.idleStopMs) break;
      else await sleep(o.pollMs ?? 10);
    }
    return stats;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    r.disconnect();
  }
}
