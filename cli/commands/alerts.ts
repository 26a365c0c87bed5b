import type { CommandModule } from 'yargs';
import { alertsFollowCommand } from './alerts-follow.ts';
import { alertsListCommand } from './alerts-list.ts';
import { alertsWatchCommand } from './alerts-watch.ts';

/** `lockstep alerts`: watch, list and follow, each in its own module. */
export const alertsCommand: CommandModule = {
  command: 'alerts',
  describe: 'alerts for live mode: watch a deployment, list the alerts firing, follow their transitions',
  builder: (y) =>
    y.command(alertsWatchCommand).command(alertsListCommand).command(alertsFollowCommand).demandCommand(1, 'choose an alerts command: watch, list or follow'),
  // never runs: demandCommand sends a bare `lockstep alerts` to the usage error
  handler: () => {},
};
