/** What the machine did during a live benchmark run: CPU per party, run queue, Redis's stalls. */
import { readFileSync } from 'node:fs';
import type { RedisClient } from '../live/redis-connect.ts';

/**
 * The machine during a fixed-rate run, so a tail can be read against it: the CPU each party used
 * (cores: 1 = one core busy the whole run), the run queue, and the longest stalls Redis's own
 * latency monitor saw. A "fast command" (XADD, XACK, HGET: O(1)) taking milliseconds is Redis not
 * being scheduled, not the command: on a shared 2-core box that is what a tick → served tail is
 * made of, whatever the worker does.
 */
export interface RunLoad {
  seconds: number;
  /** CPU used over the run, in cores: the worker process, redis-server, this process (feeder + subscriber). */
  cpu: { worker: number | null; redis: number | null; bench: number };
  /** Mean run queue (runnable tasks, /proc/loadavg's 4th field) sampled every 100 ms, and its max. */
  runQueue: { mean: number; max: number } | null;
  /** Longest event Redis's latency monitor (threshold 1 ms) recorded: O(1) commands, and others (the commit script). */
  redisStallMs: { fastCommand: number; command: number };
}

/** Ticks of CPU (user + system) a process has used, from /proc/<pid>/stat; null off Linux. */
function procTicks(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // fields after the ")" of the command name: state is 3rd, utime 14th, stime 15th
    const rest = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

/** Runnable tasks now (/proc/loadavg "running/total"), or null off Linux. */
function runnable(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[3].split('/')[0]);
  } catch {
    return null;
  }
}

/** Clock ticks per second for /proc times (USER_HZ: 100 on every Linux build in practice). */
const USER_HZ = 100;

async function redisCpuSeconds(r: RedisClient): Promise<number | null> {
  const info = String(await r.call('INFO', 'cpu'));
  const f = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const x = f('used_cpu_sys') + f('used_cpu_user');
  return Number.isFinite(x) ? x : null;
}

/** Starts measuring a run's load (latency monitor reset, CPU counters read); stop() returns it. */
export async function watchLoad(r: RedisClient, workerPid: number | undefined): Promise<{ stop: () => Promise<RunLoad> }> {
  await r.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
  await r.call('LATENCY', 'RESET');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const w0 = procTicks(workerPid);
  const r0 = await redisCpuSeconds(r);
  const rq: number[] = [];
  const timer = setInterval(() => {
    const x = runnable();
    if (x !== null) rq.push(x);
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const w1 = procTicks(workerPid);
      const r1 = await redisCpuSeconds(r);
      const latest = (await r.call('LATENCY', 'LATEST')) as [string, number, number, number][];
      const max = (name: string) => latest.find((e) => e[0] === name)?.[3] ?? 0;
      return {
        seconds,
        cpu: {
          worker: w0 === null || w1 === null ? null : (w1 - w0) / USER_HZ / seconds,
          redis: r0 === null || r1 === null ? null : (r1 - r0) / seconds,
          bench: (c.user + c.system) / 1e6 / seconds,
        },
        runQueue: rq.length === 0 ? null : { mean: rq.reduce((a, b) => a + b, 0) / rq.length, max: Math.max(...rq) },
        redisStallMs: { fastCommand: max('fast-command'), command: max('command') },
      };
    },
  };
}
