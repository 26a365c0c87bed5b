/**
 * The factor benchmark's peer: EMA(12), RSI(14) and MACD(12,26,9) per update over one long seeded
 * random walk, ours (core/kernels) against the npm package trading-signals, as chunked tasks that
 * bench/interleave.ts runs side by side in short rounds, in the same process as the fold.
 */
import { join } from 'node:path';
import { EMA, MACD, RSI } from 'trading-signals';
import { emaPush, emaValue, initEma } from '../core/kernels/ewm.ts';
import { initMacd, macdHist, macdLine, macdPush, macdReady, macdSignal } from '../core/kernels/macd.ts';
import { initRsi, rsiPush, rsiValue } from '../core/kernels/rsi.ts';
import { rngFor, uniform } from '../datasets/prng.ts';
import type { ChunkTask } from './interleave.ts';

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

/**
 * Per-indicator chunk of prices one round of a task covers: about 1-3 ms for the peer's side on a
 * 2-core VM (its EMA ~10-30 ns per update, RSI ~100-400, MACD ~50-150), so a round is short enough
 * to run at one machine speed and there are hundreds of rounds to take a median over.
 */
export const PEER_CHUNK = { 'EMA(12)': 100_000, 'RSI(14)': 10_000, 'MACD(12,26,9)': 20_000 } as const;

/** Which prices round `round` covers: consecutive chunks of the walk, wrapping at its end. */
export function chunkStart(round: number, chunk: number, n: number): number {
  const slots = Math.max(1, Math.floor(n / chunk));
  return (round % slots) * chunk;
}

/**
 * The peer comparison as chunked tasks for `interleave` (bench/interleave.ts): each run covers
 * round `r`'s chunk of `prices` (the same chunk for ours and the peer's in a round) on fresh state,
 * and returns the updates done. Task names: `ours X`, `peer X`, and `ours MACD(12,26,9), null
 * check per output`.
 */
export function peerTasks(prices: Float64Array, chunks: Record<keyof typeof PEER_CHUNK, number> = PEER_CHUNK): { tasks: ChunkTask[]; finals: Record<string, [number, number]> } {
  const n = prices.length;
  const finals: Record<string, [number, number]> = {};
  const span = (r: number, chunk: number): [number, number] => {
    const c = Math.min(chunk, n);
    const a = chunkStart(r, c, n);
    return [a, a + c];
  };
  const E = chunks['EMA(12)'];
  const R = chunks['RSI(14)'];
  const M = chunks['MACD(12,26,9)'];
  const tasks: ChunkTask[] = [
    {
      name: 'ours EMA(12)',
      run: (round) => {
        const [a, b] = span(round, E);
        const s = initEma(12);
        let acc = 0;
        for (let i = a; i < b; i++) {
          emaPush(s, prices[i]);
          const v = emaValue(s);
          if (v !== null) acc += v;
        }
        blackhole += acc;
        return b - a;
      },
    },
    {
      name: 'peer EMA(12)',
      run: (round) => {
        const [a, b] = span(round, E);
        const e = new EMA(12);
        let acc = 0;
        for (let i = a; i < b; i++) acc += e.add(prices[i]) ?? 0;
        blackhole += acc;
        return b - a;
      },
    },
    {
      name: 'ours RSI(14)',
      run: (round) => {
        const [a, b] = span(round, R);
        const s = initRsi(14);
        let acc = 0;
        for (let i = a; i < b; i++) {
          rsiPush(s, prices[i]);
          const v = rsiValue(s);
          if (v !== null) acc += v;
        }
        blackhole += acc;
        return b - a;
      },
    },
    {
      name: 'peer RSI(14)',
      run: (round) => {
        const [a, b] = span(round, R);
        const r = new RSI(14);
        let acc = 0;
        for (let i = a; i < b; i++) acc += r.add(prices[i]) ?? 0;
        blackhole += acc;
        return b - a;
      },
    },
    {
      // one readiness check per update, then the three outputs: what the peer loop does (one null
      // check of add()'s result, then its three fields)
      name: 'ours MACD(12,26,9)',
      run: (round) => {
        const [a, b] = span(round, M);
        const s = initMacd(12, 26, 9);
        let acc = 0;
        for (let i = a; i < b; i++) {
          macdPush(s, prices[i]);
          if (macdReady(s)) acc += macdLine(s)! + macdSignal(s)! + macdHist(s)!;
        }
        blackhole += acc;
        return b - a;
      },
    },
    {
      // shown too: a null check per output, as the factor's value and extras read them; each
      // number-or-null read of a double allocates a heap number, ~5 ns of the difference
      name: 'ours MACD(12,26,9), null check per output',
      run: (round) => {
        const [a, b] = span(round, M);
        const s = initMacd(12, 26, 9);
        let acc = 0;
        for (let i = a; i < b; i++) {
          macdPush(s, prices[i]);
          const line = macdLine(s);
          if (line !== null) acc += line + macdSignal(s)! + macdHist(s)!;
        }
        blackhole += acc;
        return b - a;
      },
    },
    {
      name: 'peer MACD(12,26,9)',
      run: (round) => {
        const [a, b] = span(round, M);
        const m = new MACD(new EMA(12), new EMA(26), new EMA(9));
        let acc = 0;
        for (let i = a; i < b; i++) {
          const r = m.add(prices[i]);
          if (r !== null) acc += r.macd + r.signal + r.histogram;
        }
        blackhole += acc;
        return b - a;
      },
    },
  ];
  // final values over the whole walk, outside the timed loops: evidence that both sides compute the same thing
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

/**
 * The fold's peer, as a chunked task: trading-signals' EMA(12), RSI(14) and MACD(12,26,9) each
 * updated once per price over round `r`'s chunk of `chunk` prices (fresh state); returns the prices
 * done. Interleaved with fold chunks, its ns per price is the machine speed the fold's ns/event is
 * divided by (both single-threaded JS in the same process, measured within the same few ms).
 */
export function peerSetTask(prices: Float64Array, chunk: number): ChunkTask {
  const n = prices.length;
  const c = Math.min(chunk, n);
  return {
    name: 'peer EMA + RSI + MACD',
    run: (round) => {
      const a = chunkStart(round, c, n);
      const e = new EMA(12);
      const r = new RSI(14);
      const m = new MACD(new EMA(12), new EMA(26), new EMA(9));
      let acc = 0;
      for (let i = a; i < a + c; i++) {
        const x = prices[i];
        acc += (e.add(x) ?? 0) + (r.add(x) ?? 0);
        const h = m.add(x);
        if (h !== null) acc += h.histogram;
      }
      blackhole += acc;
      return c;
    },
  };
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
