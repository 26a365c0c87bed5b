/** The firing alerts as Prometheus text (pure). */
import type { Alert } from './model.ts';

const label = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus lines for the firing alerts (for /metrics): a count per severity and one gauge per alert. */
export function alertsMetricsText(alerts: readonly Alert[]): string {
  const lines = ['# HELP lockstep_alerts_firing Alerts firing now, by severity (lockstep alerts watch).', '# TYPE lockstep_alerts_firing gauge'];
  for (const sev of ['critical', 'warning'] as const) lines.push(`lockstep_alerts_firing{severity="${sev}"} ${alerts.filter((a) => a.severity === sev).length}`);
  lines.push('# HELP lockstep_alert 1 for each alert firing now.', '# TYPE lockstep_alert gauge');
  for (const a of alerts) lines.push(`lockstep_alert{id="${label(a.id)}",severity="${a.severity}"} 1`);
  return lines.join('\n') + '\n';
}
