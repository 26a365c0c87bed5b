import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, jsonFlag } from '../options.ts';

const FORMATS = ['binance', 'lobster', 'taq', 'dukascopy', 'sec'] as const;

const builder = (y: Argv) =>
  y
    .option('format', { choices: FORMATS, demandOption: true, describe: 'what --in holds: Binance websocket captures, LOBSTER zips, TAQ trade/quote CSVs, Dukascopy tick CSVs or SEC quarterly fundamentals' })
    .option('in', { type: 'string', demandOption: true, describe: 'input file or directory' })
    .option('out', { type: 'string', demandOption: true, describe: 'catalog root to write' })
    .option('on-error', { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'fail on the first malformed row, or skip and count them' })
    .option('symbol', { type: 'string', describe: 'the symbol: replaces the file name\'s (dukascopy, lobster); with a symbol on every row (taq, sec, binance), rows of other symbols are rejected' })
    .option('splits', { type: 'string', describe: 'sec only: CSV of stock splits (symbol,ex_date,ratio,announced) that complements the splits derived from jumps in shares outstanding' })
    .option('json', jsonFlag('print the import result as JSON'))
    .example('$0 datasets import --format binance --in ../shared/data/real/crypto_binance_btcusdt --out cat', '');

/** The importer of each format, loaded only when chosen. */
const IMPORTERS = {
  binance: async () => (await import('../../datasets/import-binance.ts')).importBinance,
  lobster: async () => (await import('../../datasets/import-lobster.ts')).importLobster,
  taq: async () => (await import('../../datasets/import-taq.ts')).importTaq,
  dukascopy: async () => (await import('../../datasets/import-dukascopy.ts')).importDukascopy,
  sec: async () => (await import('../../datasets/import-sec.ts')).importSec,
};

/** `lockstep datasets import`: a real dataset into the canonical catalog. */
export const datasetsImportCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'import',
  describe: 'import a real dataset into the canonical catalog',
  builder,
  handler: async (a) => {
    if (!existsSync(a.in)) throw new UsageError(`--in ${a.in} does not exist`);
    if (a.symbol !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/.test(a.symbol)) throw new UsageError(`--symbol ${JSON.stringify(a.symbol)} is not a symbol (letters, digits and . _ : / -, up to 64)`);
    if (a.splits !== undefined && a.format !== 'sec') throw new UsageError(`--splits is for --format sec only (got --format ${a.format})`);
    if (a.splits !== undefined && !existsSync(a.splits)) throw new UsageError(`--splits ${a.splits} does not exist`);
    const load = IMPORTERS[a.format];
    if (!load) throw new UsageError(`unknown --format ${a.format}`);
    const r = await (await load())(a.in, a.out, { onError: a.onError, symbol: a.symbol, splits: a.splits });
    if (a.json) {
      console.log(JSON.stringify(r));
      return;
    }
    console.log(`imported ${a.format}: ${Object.entries(r.events).map(([k, n]) => `${Number(n).toLocaleString('en-US')} ${k}`).join(', ')} into ${r.files.length} files under ${a.out}`);
    for (const n of r.notes) console.log(`  note: ${n}`);
    for (const x of r.corrected ?? []) console.log(`  corrected: ${x.file}, line ${x.line}, field ${x.field} (value ${JSON.stringify(x.value)} -> ${JSON.stringify(x.corrected)}): ${x.reason}`);
    if (r.rejected > 0) {
      console.log(`  rejected ${r.rejected} rows (--on-error skip); first ones:`);
      for (const x of r.rejectedSample.slice(0, 10)) console.log(`    ${x.file}, line ${x.line}, field ${x.field} (value ${JSON.stringify(x.value)}): ${x.reason}`);
    }
  },
};
