import type { CommandModule } from 'yargs';
import { parityDiffCommand } from './parity-diff.ts';
import { parityReferenceCommand } from './parity-reference.ts';
import { parityRunCommand } from './parity-run.ts';

/** `lockstep parity`: diff, run and reference, each in its own module. */
export const parityCommand: CommandModule = {
  command: 'parity',
  describe: 'compare factor tables (replay vs live, or against a reference implementation)',
  builder: (y) =>
    y.command(parityDiffCommand).command(parityRunCommand).command(parityReferenceCommand).demandCommand(1, 'try: lockstep parity diff A.parquet B.parquet'),
  // never runs: demandCommand sends a bare `lockstep parity` to the usage error
  handler: () => {},
};
