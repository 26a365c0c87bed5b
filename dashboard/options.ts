/**
 * The flags `lockstep serve` takes for the dashboard (kept here, with the dashboard, so serve's
 * builder only adds one line). Light: `lockstep --help` loads every builder.
 */
import type { Argv } from 'yargs';

/** Adds --dashboard and its flags to serve's builder. */
export function dashboardOptions<T>(y: Argv<T>) {
  return y
    .option('dashboard', { type: 'boolean', default: false, describe: 'also serve the live dashboard at /dashboard (overview, factors, PnL, models, target weights, execution and kill policy, kill switch)' })
    .option('operator-token-file', { type: 'string', describe: 'dashboard: a file holding the operator token (16-256 printable characters); without it the dashboard is read-only for everyone' })
    .option('operator-redis', { type: 'string', describe: 'dashboard: Redis URL of a user allowed to write <ns>:kill, for the operator\'s kill switch (serve\'s own user stays read-only)' })
    .option('dashboard-symbols', { type: 'string', array: true, describe: 'dashboard: the symbols to show (default: those with latest values, found by SCAN)' })
    .option('parity-certificate', { type: 'string', describe: 'dashboard: a parity certificate (parity run --certificate) to show on the overview' });
}
