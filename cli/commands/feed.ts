import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, daySelection, daySelectionOptions, deploymentOptions } from '../options.ts';

const builder = (y: Argv) =>
  deploymentOptions(daySelectionOptions(y)).option('duplicate', {
    type: 'number',
    describe: 'fault injection: publish this fraction of events twice, 1-50 events later (a producer retry)',
  })
    .option('fills', { type: 'string', describe: 'also publish this fills file (Parquet or CSV) into <ns>:fills, in merge order with the market events (at one instant: after them), heartbeats too' })
    .option('instruments', { type: 'string', describe: 'with --fills: the instruments file (tick, lot) the fills are checked against (default: tick 0.01, lot 1)' });

/** `lockstep feed`: a catalog day into the input streams, as an exchange adapter would publish it. */
export const feedCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'feed',
  describe: 'play a catalog day into Redis Streams (what an exchange adapter would publish)',
  builder,
  handler: async (a) => {
    const { runFeed } = await import('../../live/feed.ts');
    const side = a.fills === undefined ? undefined : await fillsSide(a.fills, a.instruments, a.ns);
    const s = await runFeed({ ...(await daySelection(a)), redis: a.redis, ns: a.ns, shards: a.shards, duplicate: a.duplicate, side, log: (m) => console.error(m), status: true });
    const dup = s.duplicated > 0 ? ` (${s.duplicated.toLocaleString('en-US')} events published twice)` : '';
    const skipped = s.skipped > 0 ? `; ${s.skipped.toLocaleString('en-US')} events were already in the streams` : '';
    console.log(`fed ${s.events.toLocaleString('en-US')} events as ${s.entries.toLocaleString('en-US')} stream entries into ${a.shards} shards in ${(s.wallMs / 1000).toFixed(2)} s${dup}${skipped}`);
  },
};

/** A fills file as the feed's side stream `<ns>:fills` (trading/fills-wire.ts), in ts_recv order (file order at one instant). */
async function fillsSide(file: string, instrumentsFile: string | undefined, ns: string) {
  const { readFillsFile } = await import('../../trading/fills-file.ts');
  const { defaultInstruments, readInstruments } = await import('../../trading/instruments.ts');
  const { encodeFillFields, heartbeatFields } = await import('../../trading/fills-wire.ts');
  const { fillsStream } = await import('../../live/keys.ts');
  const ins = instrumentsFile === undefined ? defaultInstruments() : readInstruments(instrumentsFile);
  const { fills, duplicates } = await readFillsFile(file, ins);
  for (const d of duplicates) console.error(`feed: ${d} (published once)`);
  const entries = fills.map((f, i) => ({ i, tsRecv: f.tsRecv, fields: encodeFillFields(f, ins) }));
  entries.sort((x, y) => (x.tsRecv < y.tsRecv ? -1 : x.tsRecv > y.tsRecv ? 1 : x.i - y.i));
  return { key: fillsStream({ ns }), entries, heartbeat: heartbeatFields };
}
