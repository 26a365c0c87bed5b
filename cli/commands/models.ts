import type { CommandModule } from 'yargs';
import { modelsExportLogCommand, modelsScorecardCommand, modelsWatchCommand } from './models-live.ts';

/** `lockstep models`: the model layer's commands (live mode: export-log, scorecard, watch). */
export const modelsCommand: CommandModule = {
  command: 'models',
  describe: 'models: live deployment log export, scorecards, automatic rollback',
  builder: (y) => y.command(modelsExportLogCommand).command(modelsScorecardCommand).command(modelsWatchCommand).demandCommand(1, 'choose a models command'),
  handler: () => {},
};
