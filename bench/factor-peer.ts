/**
 * The factor benchmark's peer: EMA(12), RSI(14) and MACD(12,26,9) per update over one long seeded
 * random walk, ours (core/kernels) against the npm package trading-signals, measured round-robin
 * in the same process as the fold.
 */
import { join } from 'node:path';
import { EMA, MACD, RSI } from 'trading-signals';
import { emaPush, emaValue, initEma } from '../core/kernels/ewm.ts';
import { initMacd, macdHist, macdLine, macdPush, macdReady, macdSignal } from '../core/kernels/macd.ts';
import { initRsi, rsiPush, rsiValue } from '../core/kernels/rsi.ts';
import { rngFor, uniform } from '../datasets/prng.ts';
import type { RoundTask } from './round-robin.ts';

/** A deterministic random walk in cents (so some changes are exactly 0, exercising RSI's tie). */
export function randomWalk(n: number, seed = 42): Float64Array {
  const rng = rngFor(seed, 7);
  const out = new Float64Array(n);
  let cents = 10_000;
  for (let i = 0; i < n; i++) {
    cents += Math.floor(uniform(rng) * 11) - 5;
    if (cents < 100) cents = 200 - cents;
    out[i] = cents / 100;
  }
  return out;
}

// written by every peer-comparison task so that no loop is dead code
let blackhole = 0;

/** The peer loops' checksum: not finite means a loop produced NaN or infinity. */
export const peerChecksum = (): number => blackhole;

export function peerTasks(prices: Float64Array): { tasks: RoundTask[]; finals: Record<string, [number, number]> } {
  const n = prices.length;
  const finals: Record<string, [number, number]> = {};
  const tasks: RoundTask[] = [
    {
      name: 'ours EMA(12)',
      fn: () => {
        const s = initEma(12);
        let acc = 0;
        for (let i = 0; i < n; i++) {
          emaPush(s, prices[i]);
          const v = emaValue(s);
          if (v !== null) acc += v;
        }
        blackhole += acc;
      },
    },
    {
      name: 'peer EMA(12)',
      fn: () => {
        const e = new EMA(12);
        let acc = 0;
        for (let i = 0; i < n; i++) acc += e.add(prices[i]) ?? 0;
        blackhole += acc;
      },
    },
    {
      name: 'ours RSI(14)',
      fn: () => {
        const s = initRsi(14);
        let acc = 0;
        for (let i = 0; i < n; i++) {
          rsiPush(s, prices[i]);
          const v = rsiValue(s);
          if (v !== null) acc += v;
        }
        blackhole += acc;
      },
    },
    {
      name: 'peer RSI(14)',
      fn: () => {
        const r = new RSI(14);
        let acc = 0;
        for (let i = 0; i < n; i++) acc += r.add(prices[i]) ?? 0;
        blackhole += acc;
      },
    },
    {
      // one readiness check per update, then the three outputs: what the peer loop does (one null
      // check of add()'s result, then its three fields)
      name: 'ours MACD(12,26,9)',
      fn: () => {
        const s = initMacd(12, 26, 9);
        let acc = 0;
        for (let i = 0; i < n; i++) {
          macdPush(s, prices[i]);
          if (macdReady(s)) acc += macdLine(s)! + macdSignal(s)! + macdHist(s)!;
        }
        blackhole += acc;
      },
    },
    {
      // shown too: a null check per output, as the factor's value and extras read them; each
      // number-or-null read of a double allocates a heap number, ~5 ns of the difference
      name: 'ours MACD(12,26,9), null check per output',
      fn: () => {
        const s = initMacd(12, 26, 9);
        let acc = 0;
        for (let i = 0; i < n; i++) {
          macdPush(s, prices[i]);
          const line = macdLine(s);
          if (line !== null) acc += line + macdSignal(s)! + macdHist(s)!;
        }
        blackhole += acc;
      },
    },
    {
      name: 'peer MACD(12,26,9)',
      fn: () => {
        const m = new MACD(new EMA(12), new EMA(26), new EMA(9));
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const r = m.add(prices[i]);
          if (r !== null) acc += r.macd + r.signal + r.histogram;
        }
        blackhole += acc;
      },
    },
  ];
  // final values, outside the timed loops: evidence that both sides compute the same thing
  const e = initEma(12);
  const pe = new EMA(12);
  const r = initRsi(14);
  const pr = new RSI(14);
  const m = initMacd(12, 26, 9);
  const pm = new MACD(new EMA(12), new EMA(26), new EMA(9));
  for (let i = 0; i < n; i++) {
    emaPush(e, prices[i]);
    pe.add(prices[i]);
    rsiPush(r, prices[i]);
    pr.add(prices[i]);
    macdPush(m, prices[i]);
    pm.add(prices[i]);
  }
  finals['EMA(12)'] = [emaValue(e) ?? NaN, pe.getResult() ?? NaN];
  finals['RSI(14)'] = [rsiValue(r) ?? NaN, pr.getResult() ?? NaN];
  finals['MACD(12,26,9)'] = [macdHist(m) ?? NaN, pm.getResult()?.histogram ?? NaN];
  return { tasks, finals };
}

export async function peerVersion(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  const req = createRequire(import.meta.url);
  // the package's exports map hides package.json; find it from the resolved entry point
  const entry = req.resolve('trading-signals');
  const pkg = join(entry.slice(0, entry.lastIndexOf('trading-signals') + 'trading-signals'.length), 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
