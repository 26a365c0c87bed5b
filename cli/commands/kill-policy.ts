/**
 * `lockstep kill-policy` (replay: when the automatic kill switch would have fired on a catalog
 * date) and `lockstep kill-guard` (live: the same detector on a deployment's output streams,
 * switching the kill switch on). The code they drive loads in the handlers.
 */
import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, CATALOG, DATE, list, redisOptions, SYMBOLS } from '../options.ts';

const POLICY = { type: 'string', demandOption: true, describe: 'kill policy (JSON: flags, spread_blowout, stale_feed, limits → alert | reduce-only-symbol | kill-symbol | kill-all; see README)' } as const;

const replayBuilder = (y: Argv) =>
  y
    .option('catalog', CATALOG)
    .option('date', DATE)
    .option('policy', POLICY)
    .option('symbols', SYMBOLS)
    .option('json', { type: 'boolean', default: false, describe: 'print the triggers as JSON lines' })
    .example('$0 kill-policy --catalog out/demo/catalog --date 2024-03-15 --policy kill.json', 'when the policy would have fired on that day');

/** `lockstep kill-policy`: the kill policy replayed over a date. */
export const killPolicyCommand: CommandModule<{}, ArgsOf<typeof replayBuilder>> = {
  command: 'kill-policy',
  describe: 'replay a date through the factor fold and the automatic kill switch: when, on which event, which rule and action would have fired',
  builder: replayBuilder,
  handler: async (a) => {
    const { readKillPolicy } = await import('../../trading/kill-policy.ts');
    const { formatTrigger, replayKillPolicy, triggerJson } = await import('../../trading/kill-replay.ts');
    const policy = readKillPolicy(a.policy);
    const r = await replayKillPolicy({ catalog: a.catalog, date: a.date, policy, symbols: list(a.symbols) });
    if (a.json) {
      for (const t of r.triggers) console.log(JSON.stringify(triggerJson(t)));
      return;
    }
    for (const t of r.triggers) console.log(formatTrigger(t));
    console.log(`kill-policy: ${r.triggers.length} trigger(s) over ${r.events} events (${r.rows} factor rows)`);
  },
};

const guardBuilder = (y: Argv) =>
  redisOptions(y)
    .option('policy', POLICY)
    .option('by', { type: 'string', default: 'lockstep-kill-guard', describe: 'who the kill switch entries name' })
    .option('exit-when-idle', { type: 'number', describe: 'exit after this many ms without new output rows once some were read (default: run until SIGTERM/SIGINT)' })
    .example('$0 kill-guard --redis redis://127.0.0.1:6379 --ns ls --policy kill.json', 'switch the kill switch on as the policy fires on the live rows');

/** `lockstep kill-guard`: the automatic kill switch, live. */
export const killGuardCommand: CommandModule<{}, ArgsOf<typeof guardBuilder>> = {
  command: 'kill-guard',
  describe: "live: run the kill policy on a deployment's factor output streams; a trigger switches the kill switch on (symbol or all, halt or reduce-only) and raises an alert; switching it off stays a human action",
  builder: guardBuilder,
  handler: async (a) => {
    const { readKillPolicy } = await import('../../trading/kill-policy.ts');
    const { runKillGuard } = await import('../../trading/kill-guard.ts');
    const policy = readKillPolicy(a.policy);
    const s = await runKillGuard({ url: a.redis, ns: a.ns, policy, by: a.by, idleStopMs: a.exitWhenIdle, log: (l) => console.log(l) });
    console.log(`kill-guard: stopped, ${s.fired} trigger(s) acted on, ${s.skipped} already acted on before a restart`);
  },
};
