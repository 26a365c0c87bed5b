/**
 * Every top-level `lockstep` command, in the order `--help` lists them. A command module imports
 * yargs types and light helpers only; the code it drives loads inside its handler.
 */
import type { CommandModule } from 'yargs';
import { alertsCommand } from './alerts.ts';
import { benchHistoricalPhaseCommand } from './bench-historical-phase.ts';
import { benchPhaseCommand } from './bench-phase.ts';
import { benchCommand } from './bench.ts';
import { datasetsCommand } from './datasets.ts';
import { demoCommand } from './demo.ts';
import { executeCommand } from './execute.ts';
import { deskCommand } from './desk.ts';
import { gatewayCommand } from './gateway.ts';
import { factorsCommand } from './factors.ts';
import { feedCommand } from './feed.ts';
import { killSwitchCommand } from './kill-switch.ts';
import { killGuardCommand, killPolicyCommand } from './kill-policy.ts';
import { lineageCommand } from './lineage.ts';
import { liveCommand } from './live.ts';
import { modelsCommand } from './models.ts';
import { parityCommand } from './parity.ts';
import { pnlCommand } from './pnl.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './report.ts';
import { serveCommand } from './serve.ts';
import { trainingSetCommand } from './training-set.ts';
import { weightsCommand } from '../../portfolio/command.ts';

/**
 * Each module's handler is typed by its own builder; the list forgets those types, which only
 * yargs reads. (`any` because a handler's argument type is contravariant: no narrower type fits all.)
 */
export const COMMANDS: readonly CommandModule<{}, any>[] = [
  demoCommand,
  replayCommand,
  trainingSetCommand,
  modelsCommand,
  datasetsCommand,
  feedCommand,
  liveCommand,
  killSwitchCommand,
  killPolicyCommand,
  killGuardCommand,
  alertsCommand,
  serveCommand,
  weightsCommand,
  executeCommand,
  gatewayCommand,
  pnlCommand,
  deskCommand,
  parityCommand,
  lineageCommand,
  reportCommand,
  factorsCommand,
  benchCommand,
  benchPhaseCommand,
  benchHistoricalPhaseCommand,
];
