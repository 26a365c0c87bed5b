/**
 * `--latency-file FILE`: recorded order latencies for the fill simulator's interpolated model
 * (trading/sim/latency.ts `tableLatency`, hftbacktest's `IntpOrderLatency`): a CSV with a header
 * naming `req_ts`, `exch_ts` and `resp_ts` (other columns are ignored) and one row per recorded
 * order: when it was sent, when the exchange stamped it, when its response came back, epoch ns.
 * Rows in request-time order (strictly increasing), exchange times not going back, every latency
 * ≥ 0. A bad file is one line naming the file, row, field and value.
 */
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../core/errors.ts';
import * as sim from '../sim/index.ts';

const COLS = ['req_ts', 'exch_ts', 'resp_ts'] as const;
const NS_RE = /^-?\d{1,19}$/;

/** The file's rows as a latency model, with the constant feed latency `feedNs`. */
export function readLatencyFile(path: string, feedNs: bigint): sim.Latency {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--latency-file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const bad = (info: Omit<ConstructorParameters<typeof InputError>[0], 'file'>) => new UsageError(`--latency-file ${new InputError({ file: path, ...info }).message}`);
  if (lines.length === 0) throw bad({ reason: `is empty: needs a header with ${COLS.join(', ')} and at least one row` });
  const head = lines[0].split(',').map((h) => h.trim());
  const at = COLS.map((c) => head.indexOf(c));
  const missing = COLS.filter((_, i) => at[i] < 0);
  if (missing.length > 0) throw bad({ row: 1, field: missing[0], reason: `the header has no ${missing.join(', ')} column (it reads ${JSON.stringify(lines[0])})` });
  if (lines.length === 1) throw bad({ reason: 'has a header but no row' });
  const n = lines.length - 1;
  const cols = COLS.map(() => new BigInt64Array(n));
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1].split(',').map((c) => c.trim());
    for (let k = 0; k < COLS.length; k++) {
      const v = cells[at[k]];
      if (v === undefined || !NS_RE.test(v) || BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n) throw bad({ row: i + 2, field: COLS[k], value: v ?? null, reason: 'must be an integer number of epoch nanoseconds' });
      cols[k][i] = BigInt(v);
    }
  }
  try {
    return sim.tableLatency({ req: cols[0], exch: cols[1], resp: cols[2] }, feedNs);
  } catch (e) {
    if (!(e instanceof sim.SimInputError)) throw e;
    // the model's check names the data row (1-based): the file's row is one more (the header)
    const m = /^latency\.table row (\d+) (\w+)$/.exec(e.field);
    throw m ? bad({ row: Number(m[1]) + 1, field: m[2], value: String(e.value), reason: e.reason }) : bad({ reason: e.reason });
  }
}
