/**
 * `lockstep bench pnl`: the PnL/risk ledger's cost per price change of a held symbol with 5,000
 * open positions (goal ≤ 200 ns, issue 18), with a peer measured in the same run.
 *
 * Setup: 5,000 symbols, each held by one of 10 books (account/strategy), with an rv; a fixed
 * sequence of marks (a random walk of ±1..3 ticks per update, xorshift, the same every run) over
 * random held symbols. Timed: `applyMark` for each (the positions of the symbol: ΔMV and Δgross
 * exact, the VaR term, the book's and the total's day PnL, high-water mark and drawdown).
 * Peer: the bare work any mark must do — a Map lookup of the symbol and one multiply-add of
 * position × Δprice into a running sum — over the same marks. Rounds alternate ledger / peer so
 * machine drift hits both alike; figures are medians over rounds of ns per mark.
 */
import { writeFileSync } from 'node:fs';
import { defaultInstruments } from '../trading/instruments.ts';
import { applyFill, applyMark, DEFAULT_VAR, initLedger } from '../trading/ledger.ts';

export interface PnlBenchResult {
  positions: number;
  marksPerRound: number;
  rounds: number;
  /** Median ns per mark. */
  ledgerNs: number;
  peerNs: number;
  ratio: number;
  goalNs: number;
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

/** Runs the bench and prints a small table; `json` also writes the result there. */
export function benchPnl(opts: { positions?: number; marks?: number; rounds?: number; json?: string; log?: (s: string) => void } = {}): PnlBenchResult {
  const log = opts.log ?? ((s: string) => console.log(s));
  const n = opts.positions ?? 5000;
  const m = opts.marks ?? 200_000;
  const rounds = opts.rounds ?? 11;
  const rnd = prng(18);
  const l = initLedger({ instruments: defaultInstruments(), mark: 'mid', ...DEFAULT_VAR });
  const names = Array.from({ length: n }, (_, i) => `S${String(i).padStart(5, '0')}`);
  const price = new Int32Array(n);
  const qty = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    price[i] = 1000 + Math.floor(rnd() * 100_000);
    qty[i] = (rnd() < 0.5 ? -1 : 1) * (1 + Math.floor(rnd() * 1000));
    applyFill(l, { fillId: `f${i}`, account: `acct${i % 2}`, strategy: `strat${i % 5}`, symbol: names[i], side: qty[i] > 0 ? 1 : -1, qty: Math.abs(qty[i]), price: price[i], fee: 0, orderId: '', tsEvent: BigInt(i), tsRecv: BigInt(i) });
    applyMark(l, names[i], BigInt(i), price[i], 0.001 + rnd() * 0.01);
  }
  // the mark sequence: which symbol and its new price (ticks), a walk kept above 0
  const which = new Int32Array(m);
  const px = new Int32Array(m);
  const cur = Int32Array.from(price);
  for (let k = 0; k < m; k++) {
    const i = Math.floor(rnd() * n);
    const step = 1 + Math.floor(rnd() * 3);
    cur[i] = Math.max(1, cur[i] + (rnd() < 0.5 ? -step : step));
    which[k] = i;
    px[k] = cur[i];
  }
  const peerPos = new Map(names.map((s, i) => [s, { qty: qty[i], mark: price[i] }]));
  const ledgerNs: number[] = [];
  const peerNs: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds + 2; r++) {
    let t0 = process.hrtime.bigint();
    let ts = 10_000n + BigInt(r * m);
    const t1 = ts;
    for (let k = 0; k < m; k++) applyMark(l, names[which[k]], t1, px[k], null); // one instant a round: bigint increments would be timed too
    const a = Number(process.hrtime.bigint() - t0) / m;
    t0 = process.hrtime.bigint();
    let total = 0;
    for (let k = 0; k < m; k++) {
      const p = peerPos.get(names[which[k]])!;
      total += p.qty * (px[k] - p.mark);
      p.mark = px[k];
    }
    const b = Number(process.hrtime.bigint() - t0) / m;
    sink += total;
    if (r >= 2) {
      ledgerNs.push(a);
      peerNs.push(b);
    }
    // walk back so every round replays the same prices from the same start
    for (let i = 0; i < n; i++) applyMark(l, names[i], ts++, price[i], null);
    for (let i = 0; i < n; i++) peerPos.get(names[i])!.mark = price[i];
  }
  if (!Number.isFinite(sink) || l.positions.length !== n) throw new Error('pnl bench: not run as set up');
  const res: PnlBenchResult = { positions: n, marksPerRound: m, rounds, ledgerNs: median(ledgerNs), peerNs: median(peerNs), ratio: 0, goalNs: 200 };
  res.ratio = res.ledgerNs / res.peerNs;
  log(`pnl bench: ${n} open positions in 10 books, ${m} marks per round, ${rounds} rounds (after 2 warm-up), median ns per mark`);
  log('| task | ns per mark |');
  log('|---|---|');
  log(`| ledger applyMark (exact ΔMV, Δgross, VaR, day PnL/HWM/drawdown of book and total) | ${res.ledgerNs.toFixed(1)} |`);
  log(`| peer: Map lookup + one multiply-add | ${res.peerNs.toFixed(1)} |`);
  log(`ledger = ${res.ratio.toFixed(1)}x the peer; goal <= ${res.goalNs} ns: ${res.ledgerNs <= res.goalNs ? 'met' : 'NOT met'}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(res, null, 2));
  return res;
}
