import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { formatFactorBench } from './factor-bench-format.ts';
import { benchFactors, type FactorBenchResult } from './factor-bench.ts';
import { randomWalk } from './factor-peer.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-factor-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const positive = (x: number) => Number.isFinite(x) && x > 0;

describe('benchFactors (shape only, no timing assertions)', () => {
  let r: FactorBenchResult;

  it('runs on the tiny preset and writes its JSON', async () => {
    const json = join(dir, 'factors.json');
    // 50k prices: the EMA side's chunk is then ~0.1 ms of CPU, well above process.cpuUsage's 1 µs
    r = await benchFactors({ preset: 'tiny', dir, json, events: 3000, runs: 3, peerPrices: 50_000, peerRounds: 20, foldRounds: 20, kernelRounds: 5, quiet: true });
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));
    expect(r.preset).toBe('tiny');
    expect(r.events).toBe(3000);
    expect(r.dayEvents).toBeGreaterThan(3000);
    expect(Object.values(r.eventsByKind).reduce((a, b) => a + b, 0)).toBe(3000);
  }, 60_000);

  it('reports the fold with positive finite figures', () => {
    for (const fig of [r.wholeSet, r.emptyFold]) {
      expect(fig.runs).toHaveLength(3);
      for (const x of [fig.nsPerEvent, fig.minNsPerEvent, ...fig.runs]) expect(positive(x)).toBe(true);
      expect(fig.minNsPerEvent).toBeLessThanOrEqual(fig.nsPerEvent);
    }
  });

  it('has every default factor, in registry order', () => {
    expect(r.perFactor.map((f) => f.name)).toEqual(DEFAULT_FACTORS.map((f) => f.name));
    for (const f of r.perFactor) {
      expect(positive(f.nsPerEvent)).toBe(true);
      expect(Number.isFinite(f.netNsPerEvent)).toBe(true);
      expect(f.consumedEvents).toBeGreaterThanOrEqual(0);
      expect(f.consumedEvents).toBeLessThanOrEqual(r.events);
      expect(Number.isInteger(f.updates) && f.updates >= 0).toBe(true);
      if (!f.inputs.includes('heartbeat')) expect(f.updates).toBe(f.consumedEvents);
      if (f.consumedEvents > 0) expect(f.nsPerConsumedEvent).toBeGreaterThanOrEqual(f.nsPerEvent);
    }
  });

  it('measures each path of the fold alone: book, quote, trade, and heartbeat visits', () => {
    expect(r.byKind.map((k) => k.kind)).toEqual(['book', 'quote', 'trade', 'heartbeat']);
    const counts = Object.fromEntries(r.byKind.map((k) => [k.kind, k.count]));
    expect(counts).toEqual({ book: r.eventsByKind.book, quote: r.eventsByKind.quote, trade: r.eventsByKind.trade, heartbeat: r.heartbeatVisits });
    for (const k of r.byKind.filter((x) => x.count > 0 && x.kind !== 'heartbeat')) {
      for (const x of [k.wholeNs, k.emptyNs]) expect(positive(x)).toBe(true);
      expect(k.netNs).toBeCloseTo(k.wholeNs - k.emptyNs, 6);
      expect(k.netNsPerMixEvent).toBeCloseTo((k.netNs * k.count) / r.events, 6);
    }
    // a difference of two passes: finite, either sign on a tiny sample
    const hb = r.byKind.find((k) => k.kind === 'heartbeat')!;
    if (hb.count > 0) expect(Number.isFinite(hb.netNs)).toBe(true);
    expect(formatFactorBench(r)).toContain('| heartbeat (per symbol visit) |');
  });

  it('compares EMA, RSI and MACD with trading-signals on the same series', () => {
    expect(r.peer.map((p) => p.indicator)).toEqual(['EMA(12)', 'RSI(14)', 'MACD(12,26,9)']);
    for (const p of r.peer) {
      for (const x of [p.oursNs, p.peerNs, p.ratio]) expect(positive(x)).toBe(true);
      // the same indicator on both sides: final values agree (EMA seeds differ but are long forgotten)
      expect(p.finalAbsDiff).toBeLessThan(1e-6);
    }
    expect(r.peerPackage.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('measures ours and the peer, and the fold and the peer, interleaved round by round', () => {
    expect(r.peerRounds).toBe(20);
    for (const p of r.peer) {
      const [lo, hi] = p.ratioQuartiles!;
      expect(lo).toBeLessThanOrEqual(p.ratio);
      expect(p.ratio).toBeLessThanOrEqual(hi);
      expect(p.chunk).toBeGreaterThan(0);
    }
    const f = r.foldVsPeer;
    expect(f.rounds).toBe(20);
    expect(f.chunkEvents).toBe(3000); // fewer events than a chunk: the chunk is all of them
    for (const x of [f.emptyNsPerEvent, f.wholeNsPerEvent, f.peerNsPerPrice, f.emptyRatio, f.wholeRatio]) expect(positive(x)).toBe(true);
    expect(f.wholeQuartiles[0]).toBeLessThanOrEqual(f.wholeRatio);
    expect(f.wholeRatio).toBeLessThanOrEqual(f.wholeQuartiles[1]);
    expect(formatFactorBench(r)).toMatch(/fold vs peer, interleaved \(20 rounds/);
  });

  it('measures the kernels again in two child processes, one compiling the same code every time and one interpreting', () => {
    const k = r.kernels!;
    expect(k.jit.flags).toEqual(['--no-concurrent-recompilation', '--no-use-osr']);
    expect(k.interp.flags).toEqual(['--jitless']);
    for (const run of [k.jit, k.interp]) {
      expect(run.rounds).toBe(5);
      expect(run.peer.map((p) => p.indicator)).toEqual(['EMA(12)', 'RSI(14)', 'MACD(12,26,9)']);
      for (const p of run.peer) {
        for (const x of [p.oursNs, p.peerNs, p.ratio]) expect(positive(x)).toBe(true);
        expect(p.finalAbsDiff).toBeLessThan(1e-6);
      }
    }
    // the interpreter is many times slower per update than compiled code (a sanity check that the flag took)
    expect(k.interp.peer[0].peerNs).toBeGreaterThan(3 * k.jit.peer[0].peerNs);
    expect(formatFactorBench(r)).toMatch(/\| interp \(node --jitless; 5 rounds\) \| EMA\(12\) \|/);
  });

  it('formats a markdown table with PASS/MISS verdicts', () => {
    const t = formatFactorBench(r);
    for (const name of DEFAULT_FACTORS.map((f) => f.name)) expect(t).toContain(`| ${name} |`);
    expect(t.match(/\b(PASS|MISS)\b/g)).toHaveLength(4);
  });

  it('scales the whole set to the issue\'s peer speed from the same run\'s peer figures', () => {
    const here = r.peer.reduce((a, p) => a + p.peerNs, 0);
    const speed = (7.8 + 96.8 + 55.4) / here;
    const m = formatFactorBench(r).match(/\(([\d.]+)× the issue's speed\).*would be ~([\d.]+) ns\/event/);
    expect(m).not.toBeNull();
    // printed to 2 and 1 decimals
    expect(Math.abs(Number(m![1]) - speed)).toBeLessThanOrEqual(0.0051);
    expect(Math.abs(Number(m![2]) - r.wholeSet.nsPerEvent * speed)).toBeLessThanOrEqual(0.051);
  });
});

describe('randomWalk', () => {
  it('is deterministic, positive, in cents, with some flat steps', () => {
    const a = randomWalk(10_000);
    expect(randomWalk(10_000)).toEqual(a);
    let flat = 0;
    for (let i = 0; i < a.length; i++) {
      expect(a[i]).toBeGreaterThan(0);
      expect(Math.round(a[i] * 100)).toBeCloseTo(a[i] * 100, 6);
      if (i > 0 && a[i] === a[i - 1]) flat++;
    }
    expect(flat).toBeGreaterThan(0);
  });
});
