import { isoNs } from './time-format.ts';
import { fmtRate } from './progress.ts';
import type { ReplaySummary } from './run-replay.ts';

/** The one-line (plus details) end-of-replay summary. */
export function formatSummary(s: ReplaySummary): string {
  const head = `replayed ${s.events.toLocaleString('en-US')} events, ${s.symbols} symbols in ${(s.wallMs / 1000).toFixed(2)} s (${fmtRate(s.eventsPerSec)} events/s) -> ${s.output.path} sha256:${s.output.sha256.slice(0, 16)}`;
  const detail = [
    `  rows ${s.rows.toLocaleString('en-US')}, files read ${s.files}, duplicates dropped ${s.duplicates}, late applied ${s.late}`,
    s.firstTsRecv !== undefined ? `  event time ${isoNs(s.firstTsRecv)} .. ${isoNs(s.lastTsRecv!)}` : '  no events in the selection',
  ];
  if (s.dates.length > 1) detail.push(`  dates ${s.dates.join(', ')} folded as one stream (state carried across days)`);
  if (s.windowStartNs !== undefined) {
    const reach = s.warmupDates.length > 0 ? `, reaching back into ${s.warmupDates.join(', ')}` : '';
    detail.push(`  warm-up: ${s.warmupEvents.toLocaleString('en-US')} events from ${isoNs(s.warmupFromNs!)} folded, not written${reach}; rows from ${isoNs(s.windowStartNs)}`);
  }
  if (s.stoppedAt !== undefined) detail.push(`  stopped after ${s.stoppedAt} events (checkpoint written if --checkpoint was given)`);
  return [head, ...detail].join('\n');
}
