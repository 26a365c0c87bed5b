/**
 * The `lockstep` command line: the commands are modules under cli/commands/, each loading the code
 * it drives on demand so `--help` stays fast. User errors (bad flags, bad input files) print one
 * clear line and exit 2; bugs keep their stack.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { COMMANDS } from './cli/commands/index.ts';
import { UserError } from './core/errors.ts';

let parsing: Argv | undefined;
// yargs calls a middleware with (argv, the command's yargs instance); its types declare only argv
const rememberParsing = (_argv: object, y?: Argv) => {
  parsing = y;
};

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
    // remembers the yargs instance of the command being parsed, for `unknownFlags` below
    .middleware(rememberParsing as (argv: object) => void, true)
    .fail((msg, err) => {
      // a handler's error goes on to the catch below; only yargs' own parse failures (including an
      // option's coerce refusing a value, which yargs wraps in a YError) print here
      if (err && err.name !== 'YError') throw err;
      // yargs checks required flags before unknown ones: `--catalgo X` would read "Missing required
      // argument: catalog"; the misspelt flag is the cause, so it is named first
      const unknown = msg?.startsWith('Missing required argument') ? unknownFlags(argv, parsing) : [];
      if (unknown.length > 0) msg = `Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
      console.error(`lockstep: ${msg}\n(run with --help for usage)`);
      process.exit(2);
    })
    .parseAsync();
}

/** The `--flags` in `argv` that the command yargs `y` is parsing does not declare (nor their `no-` forms). */
function unknownFlags(argv: string[], y: Argv | undefined): string[] {
  // getOptions is yargs's (untyped) view of the declared options and their aliases
  const o = (y as unknown as { getOptions?: () => { key?: Record<string, unknown>; alias?: Record<string, string[]> } } | undefined)?.getOptions?.();
  if (!o?.key) return [];
  const known = new Set<string>([...Object.keys(o.key), ...Object.keys(o.alias ?? {}), ...Object.values(o.alias ?? {}).flat(), 'help', 'version']);
  const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  for (const k of [...known]) known.add(camel(k));
  const out: string[] = [];
  for (const t of argv) {
    if (t === '--') break;
    const m = /^--?([^=]+)/.exec(t);
    if (!m || /^-\d/.test(t)) continue;
    const name = m[1].replace(/^no-/, '');
    if (!known.has(name) && !known.has(m[1]) && !known.has(camel(name)) && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
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
