/**
 * The `lockstep` command line: the commands are modules under cli/commands/, each loading the code
 * it drives on demand so `--help` stays fast. User errors (bad flags, bad input files) print one
 * clear line and exit 2; bugs keep their stack.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { COMMANDS } from './cli/commands/index.ts';
import { UserError } from './core/errors.ts';

/** Parse `argv` and run the command it names. */
export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('lockstep')
    .usage('$0 <command> [options]\n\nOne deterministic factor core for market-data replay and live serving.')
    .command([...COMMANDS])
    .demandCommand(1, 'choose a command; try: lockstep demo')
    .strict()
    .recommendCommands()
    .help()
    .fail((msg, err) => {
      // a handler's error goes on to the catch below; only yargs' own parse failures (including an
      // option's coerce refusing a value, which yargs wraps in a YError) print here
      if (err && err.name !== 'YError') throw err;
      console.error(`lockstep: ${msg}\n(run with --help for usage)`);
      process.exit(2);
    })
    .parseAsync();
}

try {
  await main(hideBin(process.argv));
} catch (e) {
  // Redis's refusals (NOPERM, WRONGTYPE, ...) are the deployment's to fix: one line, not a stack
  const err = e instanceof UserError ? e : (await import('./live/redis-errors.ts')).redisUserError(e);
  if (err) {
    console.error(`lockstep: ${err.message}`);
    process.exit(err.exitCode);
  }
  throw e;
}
