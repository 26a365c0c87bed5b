import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, list, redisOptions } from '../options.ts';

const ACTION = {
  choices: ['on', 'off', 'status'] as const,
  // only for the types: `<action>` already makes it required
  demandOption: true,
  describe: 'on: switch on (needs --reason); off: switch off (the given symbols, or everything); status: print it',
} as const;

const builder = (y: Argv) =>
  redisOptions(y.positional('action', ACTION))
    .option('symbols', { type: 'string', array: true, describe: 'only these symbols (default: the whole deployment)' })
    .option('reason', { type: 'string', describe: 'why (shown to every reader)' })
    .option('reduce-only', { type: 'boolean', default: false, describe: 'on: reduce-only instead of a halt (only orders that reduce a position; working orders that would add are cancelled)' })
    .option('by', { type: 'string', default: process.env.USER ?? 'unknown', describe: 'who' });

/** `lockstep kill-switch on|off|status`: what trading engines may use, set and read in Redis. */
export const killSwitchCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'kill-switch <action>',
  describe: 'stop trading engines from using values (all symbols or some): reads return null with status killed; workers keep computing',
  builder,
  handler: async (a) => {
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { formatKillState, readKillSwitch, setKillSwitch } = await import('../../live/kill-switch.ts');
    const symbols = list(a.symbols);
    if (a.action === 'status' && symbols) throw new UsageError('kill-switch status takes no --symbols');
    if (a.action !== 'on' && a.reduceOnly) throw new UsageError(`kill-switch ${a.action} takes no --reduce-only (it qualifies 'on')`);
    const r = await openRedis(a.redis, { name: 'lockstep-kill-switch' });
    try {
      const keys = { ns: a.ns };
      const state = a.action === 'status' ? await readKillSwitch(r, keys) : await setKillSwitch(r, keys, { on: a.action === 'on', symbols, reason: a.reason, by: a.by, mode: a.reduceOnly ? 'reduce-only' : 'halt' });
      // a corrupted or wrong-typed key: readers fail closed; say so and how to clear it
      if (state.unreadable) throw new UsageError(`${state.all?.reason ?? 'the kill switch key is unreadable'}: readers treat every symbol as killed; 'lockstep kill-switch off' clears it`);
      console.log(formatKillState(state));
    } finally {
      r.disconnect();
    }
  },
};
