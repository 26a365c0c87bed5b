import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, NS, REDIS } from '../options.ts';

const builder = (y: Argv) =>
  y
    .positional('files', { type: 'string', array: true, describe: 'a factor table (.parquet: replay, training set) or a parity certificate (.json); two compare A (trained on) with B (serving)' })
    .option('against', { type: 'string', describe: 'compare with this output: can it serve a model trained on FILE? (the same as a second FILE)' })
    .option('redis', { type: 'string', describe: `a live deployment's lineage (${REDIS.describe}); with a FILE, compared against it` })
    .option('ns', NS)
    .option('json', { type: 'boolean', default: false, describe: 'print the lineage (or both, and the comparison) as JSON' });

/**
 * `lockstep lineage`: what an output was computed by and from, and whether the feature set of one
 * can serve a model trained on another (exit 1 when it cannot).
 */
export const lineageCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'lineage [files..]',
  describe: "print an output's lineage (Lockstep version, feature set, factor code hashes, input file hashes), or compare two",
  builder,
  handler: async (a) => {
    const { compareLineage, formatComparison, formatLineage, readLineage } = await import('../../replay/lineage.ts');
    const sources: { name: string; load: () => Promise<import('../../replay/lineage.ts').Lineage> }[] = [];
    for (const f of [...(a.files ?? []), ...(a.against ? [a.against] : [])]) sources.push({ name: f, load: () => readLineage(f) });
    if (a.redis !== undefined) {
      const url = a.redis;
      const { redact } = await import('../../live/redis-connect.ts');
      sources.push({
        name: `live ${a.ns} at ${redact(url)}`,
        load: async () => {
          const { openRedis } = await import('../../live/redis-connect.ts');
          const { readLiveLineage } = await import('../../live/lineage-key.ts');
          const r = await openRedis(url, { name: 'lockstep-lineage' });
          try {
            return (await readLiveLineage(r, a.ns)).lineage;
          } finally {
            r.disconnect();
          }
        },
      });
    }
    if (sources.length === 0) throw new UsageError('lockstep lineage: give an output FILE (a .parquet factor table or a .json certificate), or --redis URL --ns NS for a live deployment');
    if (sources.length > 2) throw new UsageError(`lockstep lineage: compares two lineages at most, got ${sources.length} (${sources.map((s) => s.name).join(', ')})`);
    const lineages = [];
    for (const s of sources) lineages.push(await s.load());
    if (lineages.length === 1) {
      console.log(a.json ? JSON.stringify(lineages[0], null, 2) : formatLineage(lineages[0], sources[0].name).join('\n'));
      return;
    }
    const [A, B] = lineages;
    const c = compareLineage(A, B);
    console.log(a.json ? JSON.stringify({ a: A, b: B, comparison: c }, null, 2) : formatComparison(c, A, B, [sources[0].name, sources[1].name]).join('\n'));
    if (!c.servable) process.exitCode = 1;
  },
};
