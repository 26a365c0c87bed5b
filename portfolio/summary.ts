/** What `lockstep weights` prints: the run, then the last rebalance's book. */
import { isoNs } from '../replay/time-format.ts';
import type { WeightsRecord } from './fold.ts';
import type { WeightsRunSummary } from './replay-weights.ts';

export function formatWeightsSummary(s: WeightsRunSummary): string {
  const span = s.first && s.last ? ` ${isoNs(s.first.t)} .. ${isoNs(s.last.t)}` : '';
  const lines = [`weights: ${s.rebalances} rebalances of ${s.symbols} symbols (${s.rows} rows)${span} -> ${s.out} sha256:${s.sha256.slice(0, 16)}`];
  if (s.last) lines.push(...formatRecord(s.last));
  return lines.join('\n');
}

/** One rebalance as a few lines: its figures, then each symbol's weight or why it was excluded. */
export function formatRecord(r: WeightsRecord): string[] {
  const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);
  const out = [`  ${r.trigger === 'every' ? 'rebalance' : 'requested rebalance'} at ${isoNs(r.t)}: gross ${r.stats.gross.toFixed(4)}, net ${f(r.stats.net)}, turnover ${r.stats.turnover.toFixed(4)}`];
  for (let i = 0; i < r.symbols.length; i++) out.push(`    ${r.symbols[i].padEnd(10)} ${f(r.weights[i])}${r.excluded[i] ? `  (excluded: ${r.excluded[i]})` : ''}`);
  return out;
}
