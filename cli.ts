/**
 * The `lockstep` command line. Each command loads its module on demand so `--help` stays fast.
 * User errors (bad flags, bad input files) print one clear line and exit 2; bugs keep their stack.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError, UserError } from './core/errors.ts';
import { KINDS, type Kind } from './core/events.ts';
import { defaultConsumer, WORKER_DEFAULTS } from './live/worker/defaults.ts';


function list(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

function kinds(v: unknown): Kind[] | undefined {
  const l = list(v);
  if (!l) return undefined;
  for (const k of l) if (!(KINDS as readonly string[]).includes(k)) throw usage(`unknown kind "${k}"; kinds are ${KINDS.join(', ')}`);
  return l as Kind[];
}

function usage(msg: string): UsageError {
  return new UsageError(msg);
}

function ensureParent(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
}

/** The day selection shared by replay and feed (the same files, in the same order). */
async function selectionOptions(a: Record<string, unknown>) {
  const { parseSpeed } = await import('./replay/pacer.ts');
  return {
    catalog: String(a.catalog),
    date: String(a.date),
    symbols: list(a.symbols),
    kinds: kinds(a.kinds),
    from: a.from as string | undefined,
    to: a.to as string | undefined,
    speed: parseSpeed(a.speed as string | undefined),
  };
}

/** The default factor set with `--factor-param name.param=value` settings applied. */
async function factorSetOption(a: Record<string, unknown>) {
  const { DEFAULT_FACTORS, withFactorParams } = await import('./core/registry.ts');
  return withFactorParams(DEFAULT_FACTORS, list(a['factor-param']) ?? []);
}

const FACTOR_PARAM_OPTION = {
  type: 'string',
  array: true,
  describe: 'change a default parameter: name.param=value (e.g. ma_5m.bars=6); it enters the feature-set version',
} as const;

async function cmdReplay(a: Record<string, unknown>): Promise<void> {
  const { runReplay } = await import('./replay/run-replay.ts');
  const { formatSummary } = await import('./replay/summary.ts');
  const out = String(a.out);
  ensureParent(out);
  const s = await runReplay({
    ...(await selectionOptions(a)),
    out,
    stopAfter: a['stop-after'] as number | undefined,
    checkpoint: a.checkpoint as string | undefined,
    resume: a.resume as string | undefined,
    factors: await factorSetOption(a),
  });
  if (a.json) console.log(JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  else console.log(formatSummary(s));
}

async function cmdGenerate(a: Record<string, unknown>): Promise<void> {
  const { generateDay } = await import('./datasets/generate.ts');
  const { PRESETS } = await import('./datasets/presets.ts');
  const preset = a.preset as 'tiny' | 'day' | 'big';
  const t0 = performance.now();
  const r = await generateDay({
    date: String(a.date),
    symbols: (a.symbols as number | undefined) ?? PRESETS[preset].symbols,
    seed: a.seed as number,
    preset,
    out: String(a.out),
  });
  const secs = (performance.now() - t0) / 1000;
  console.log(`generated ${r.total.toLocaleString('en-US')} events in ${r.files.length} files under ${a.out} (${secs.toFixed(1)} s)`);
  console.log(Object.entries(r.events).map(([k, n]) => `  ${k}: ${Number(n).toLocaleString('en-US')}`).join('\n'));
}

async function cmdImport(a: Record<string, unknown>): Promise<void> {
  const format = String(a.format);
  const opts = { onError: a['on-error'] as 'fail' | 'skip' };
  const input = String(a.in);
  if (!existsSync(input)) throw usage(`--in ${input} does not exist`);
  const run = {
    binance: async () => (await import('./datasets/import-binance.ts')).importBinance(input, String(a.out), opts),
    lobster: async () => (await import('./datasets/import-lobster.ts')).importLobster(input, String(a.out), opts),
    taq: async () => (await import('./datasets/import-taq.ts')).importTaq(input, String(a.out), opts),
    dukascopy: async () => (await import('./datasets/import-dukascopy.ts')).importDukascopy(input, String(a.out), opts),
    sec: async () => (await import('./datasets/import-sec.ts')).importSec(input, String(a.out), opts),
  }[format];
  if (!run) throw usage(`unknown --format ${format}`);
  const r = await run();
  if (a.json) {
    console.log(JSON.stringify(r));
    return;
  }
  console.log(`imported ${format}: ${Object.entries(r.events).map(([k, n]) => `${Number(n).toLocaleString('en-US')} ${k}`).join(', ')} into ${r.files.length} files under ${a.out}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
  if (r.rejected > 0) {
    console.log(`  rejected ${r.rejected} rows (--on-error skip); first ones:`);
    for (const x of r.rejectedSample.slice(0, 10)) console.log(`    ${x.file}, line ${x.line}, field ${x.field} (value ${JSON.stringify(x.value)}): ${x.reason}`);
  }
}

async function cmdStats(a: Record<string, unknown>): Promise<void> {
  const { catalogStats, formatStats } = await import('./datasets/stats.ts');
  const s = await catalogStats(String(a.catalog));
  console.log(a.json ? JSON.stringify(s) : formatStats(s));
}

async function cmdFactors(a: Record<string, unknown>): Promise<void> {
  const { DEFAULT_FACTORS, factorManifest, featureSetVersion } = await import('./core/registry.ts');
  const m = factorManifest(DEFAULT_FACTORS);
  if (a.json) {
    console.log(JSON.stringify({ featureSetVersion: featureSetVersion(DEFAULT_FACTORS), factors: m }, null, 2));
    return;
  }
  const rows = m.map((f) => [f.name, `v${f.version}`, JSON.stringify(f.params), f.columns.join(','), f.inputs.join(','), f.codeHash]);
  const head = ['name', 'version', 'params', 'columns', 'inputs', 'code hash'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
  console.log(`\nfeature set version ${featureSetVersion(DEFAULT_FACTORS)} (${m.length} factors)`);
}

async function cmdDemo(a: Record<string, unknown>): Promise<void> {
  const dir = String(a.dir);
  const catalog = resolve(dir, 'catalog');
  const out = resolve(dir, 'factors.parquet');
  const { generateDay } = await import('./datasets/generate.ts');
  const { runReplay } = await import('./replay/run-replay.ts');
  const { formatSummary } = await import('./replay/summary.ts');
  console.log(`1/2 generating the bundled sample day (preset tiny, seed 7) into ${catalog}`);
  const g = await generateDay({ date: '2024-03-15', symbols: 5, seed: 7, preset: 'tiny', out: catalog });
  console.log(`    ${g.total.toLocaleString('en-US')} events in ${g.files.length} Parquet files`);
  console.log(`2/2 replaying 2024-03-15 through the default factor set`);
  mkdirSync(dirname(out), { recursive: true });
  const s = await runReplay({ catalog, date: '2024-03-15', out });
  console.log(formatSummary(s));
  console.log(`\nnext: lockstep datasets stats --catalog ${catalog}`);
  console.log(`      duckdb -c "select symbol, count(*), max(last_price) from '${out}' group by all"`);
}

async function cmdFeed(a: Record<string, unknown>): Promise<void> {
  const { runFeed } = await import('./live/feed.ts');
  const s = await runFeed({
    ...(await selectionOptions(a)),
    redis: String(a.redis),
    ns: String(a.ns),
    shards: a.shards as number,
    duplicate: a.duplicate as number | undefined,
  });
  const dup = s.duplicated > 0 ? ` (${s.duplicated.toLocaleString('en-US')} events published twice)` : '';
  console.log(`fed ${s.events.toLocaleString('en-US')} events as ${s.entries.toLocaleString('en-US')} stream entries into ${a.shards} shards in ${(s.wallMs / 1000).toFixed(2)} s${dup}`);
}

async function cmdLive(a: Record<string, unknown>): Promise<void> {
  const { LiveWorker } = await import('./live/worker.ts');
  const owned = list(a.owned)?.map(Number);
  const w = new LiveWorker({
    redis: String(a.redis),
    factors: await factorSetOption(a),
    ns: String(a.ns),
    shards: a.shards as number,
    owned,
    balance: a.balance === true,
    group: String(a.group),
    consumer: String(a.consumer),
    checkpointEvery: a['checkpoint-every'] as number,
    checkpointMs: a['checkpoint-ms'] as number,
    ttlSeconds: a.ttl as number,
    leaseMs: a['lease-ms'] as number,
    log: (m) => console.error(`[${new Date().toISOString()}] ${a.consumer}: ${m}`),
  });
  const stop = () => w.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await w.start();
  console.error(`[${new Date().toISOString()}] ${a.consumer}: running shards ${w.heldShards().join(',')}${a.balance === true ? ' (balancing: the share follows the workers present)' : ''}`);
  await w.run({ idleStopMs: a['exit-when-idle'] as number | undefined });
  await w.close();
  const h = w.health();
  console.log(`stopped: applied ${h.applied} events, ${h.commits} commits, ${h.deadLettered} dead letters`);
}

async function cmdKillSwitch(a: Record<string, unknown>): Promise<void> {
  const { openRedis } = await import('./live/redis-connect.ts');
  const { formatKillState, readKillSwitch, setKillSwitch } = await import('./live/kill-switch.ts');
  const action = String(a.action);
  const symbols = list(a.symbols);
  if (action === 'status' && symbols) throw usage('kill-switch status takes no --symbols');
  const r = await openRedis(String(a.redis), { name: 'lockstep-kill-switch' });
  try {
    const keys = { ns: String(a.ns) };
    const state = action === 'status' ? await readKillSwitch(r, keys) : await setKillSwitch(r, keys, { on: action === 'on', symbols, reason: a.reason as string | undefined, by: String(a.by) });
    console.log(formatKillState(state));
  } finally {
    r.disconnect();
  }
}

/** The alert thresholds given on the command line (defaults in live/alerts.ts), as a usage error when invalid. */
async function alertThresholdOptions(a: Record<string, unknown>) {
  const { resolveThresholds } = await import('./live/alerts.ts');
  try {
    return resolveThresholds(
      {
        lagEntries: a['lag-entries'] as number | undefined,
        lagEntriesCritical: a['lag-entries-critical'] as number | undefined,
        lagMs: a['lag-ms'] as number | undefined,
        lagMsCritical: a['lag-ms-critical'] as number | undefined,
        staleMs: a['stale-ms'] as number | undefined,
        deadLetterWindowMs: a['dead-letter-window-ms'] as number | undefined,
      },
      (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    );
  } catch (e) {
    throw usage((e as Error).message);
  }
}

async function cmdAlertsWatch(a: Record<string, unknown>): Promise<void> {
  const { openRedis } = await import('./live/redis-connect.ts');
  const { AlertWatcher } = await import('./live/alerts.ts');
  const shards = a.shards as number;
  const intervalMs = a['interval-ms'] as number;
  if (!Number.isInteger(shards) || shards < 1) throw usage(`--shards ${a.shards}: must be an integer >= 1`);
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw usage(`--interval-ms ${a['interval-ms']}: must be a number >= 10`);
  const thresholds = await alertThresholdOptions(a);
  const r = await openRedis(String(a.redis), { name: 'lockstep-alerts' });
  const w = new AlertWatcher(r, {
    keys: { ns: String(a.ns), shards },
    thresholds,
    intervalMs,
    group: String(a.group),
    onTransition: (t) => console.log(JSON.stringify(t)),
    onError: (e) => console.error(`lockstep alerts: ${e.message}`),
  });
  console.error(`watching ${shards} shard(s) of "${a.ns}" every ${intervalMs} ms; transitions as JSON lines on stdout, Ctrl-C to stop`);
  w.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await w.stop();
  r.disconnect();
}

async function cmdAlertsList(a: Record<string, unknown>): Promise<void> {
  const { openRedis } = await import('./live/redis-connect.ts');
  const { readFiringAlerts } = await import('./live/alerts.ts');
  const r = await openRedis(String(a.redis), { name: 'lockstep-alerts' });
  try {
    const alerts = await readFiringAlerts(r, { ns: String(a.ns) });
    if (a.json) console.log(JSON.stringify(alerts));
    else if (alerts.length === 0) console.log('no alerts firing (as recorded by lockstep alerts watch)');
    else for (const x of alerts) console.log(`${x.severity.toUpperCase().padEnd(8)} ${x.id.padEnd(16)} since ${new Date(x.since).toISOString()}  ${x.summary}`);
  } finally {
    r.disconnect();
  }
}

async function cmdAlertsFollow(a: Record<string, unknown>): Promise<void> {
  const { openRedis } = await import('./live/redis-connect.ts');
  const { followAlerts } = await import('./live/alerts.ts');
  const r = await openRedis(String(a.redis), { name: 'lockstep-alerts-follow' });
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  // `lockstep alerts follow | head`: a closed pipe ends it quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? stop.abort() : console.error(`lockstep: ${e.message}`)));
  try {
    const entries = followAlerts(r, { ns: String(a.ns) }, String(a.from), { signal: stop.signal, onError: (e) => console.error(`lockstep alerts: ${e.message}; reading again in 1 s`) });
    for await (const e of entries) console.log(JSON.stringify(e));
  } finally {
    r.disconnect();
  }
}

async function cmdServe(a: Record<string, unknown>): Promise<void> {
  const { openFeatureSource } = await import('./live/row-reader.ts');
  const { startApi } = await import('./live/http-api.ts');
  const redis = await openFeatureSource(String(a.redis), { name: 'lockstep-api', commandTimeoutMs: a['command-timeout-ms'] as number });
  const api = await startApi(redis, { keys: { ns: String(a.ns), shards: a.shards as number }, host: String(a.host), port: a.port as number, maxAgeMs: a['max-age-ms'] as number });
  console.log(`serving http://${a.host}:${api.port}/v1/features?symbols=...&features=...  (/healthz, /metrics)`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await api.close();
  redis.disconnect();
}

async function cmdParityDiff(a: Record<string, unknown>): Promise<void> {
  const { formatDiff, htmlReport, parseTolerance } = await import('./parity/diff.ts');
  const { openRowSource } = await import('./parity/row-source.ts');
  const { diffSources, formatStats } = await import('./parity/stream-diff.ts');
  const { parseKeys, isIdentityKeys } = await import('./core/row-key.ts');
  let keys: string[] | undefined;
  let tolerance;
  const factorTolerance: Record<string, ReturnType<typeof parseTolerance>> = {};
  try {
    keys = parseKeys(String(a.keys));
    if (isIdentityKeys(keys)) keys = undefined;
    tolerance = parseTolerance(String(a.tolerance));
    for (const ft of list(a['factor-tolerance']) ?? []) {
      const [name, t] = ft.split('=');
      if (!name || !t) throw new Error(`--factor-tolerance ${JSON.stringify(ft)}: use name=exact|ulp:N|abs:X|rel:X`);
      factorTolerance[name] = parseTolerance(t);
    }
  } catch (e) {
    throw usage((e as Error).message);
  }
  // streamed: both tables are read a batch at a time, whatever their size
  const t0 = performance.now();
  const columns = list(a.columns);
  const A = await openRowSource(String(a.a), { keys });
  const B = await openRowSource(String(a.b), { keys }).catch(async (e) => {
    await A.close();
    throw e;
  });
  let report, stats;
  try {
    const unknown = (columns ?? []).filter((c) => !A.factorColumns.includes(c) && !B.factorColumns.includes(c));
    if (unknown.length) throw usage(`--columns: ${unknown.join(', ')} in neither table (value columns of A: ${A.factorColumns.join(', ') || '-'})`);
    ({ report, stats } = await diffSources(A, B, { tolerance, factorTolerance, keys, columns }));
  } finally {
    await A.close();
    await B.close();
  }
  console.log(formatDiff(report));
  console.error(formatStats(stats, (performance.now() - t0) / 1000, report.rowsA + report.rowsB));
  const { writeFileSync } = await import('node:fs');
  if (a.json) writeFileSync(String(a.json), JSON.stringify(report, null, 2));
  if (a.report) writeFileSync(String(a.report), htmlReport(report, String(a.a), String(a.b)));
  if (report.verdict !== 'parity') process.exitCode = 1;
}

async function cmdParityReference(a: Record<string, unknown>): Promise<void> {
  const { writeReference, formatReferenceSummary, REFERENCE_COLUMNS } = await import('./parity/cross-impl.ts');
  const out = String(a.out);
  ensureParent(out);
  if ((a.replay === undefined) !== (a['replay-out'] === undefined)) throw usage('--replay and --replay-out go together');
  const s = await writeReference({ catalog: String(a.catalog), date: String(a.date), out, symbols: list(a.symbols), from: a.from as string | undefined, to: a.to as string | undefined, log: a.verbose ? (m) => console.error(m) : undefined });
  console.log(formatReferenceSummary(s));
  if (a.replay !== undefined) {
    const { projectFactorTable } = await import('./parity/project-table.ts');
    const po = String(a['replay-out']);
    ensureParent(po);
    const p = await projectFactorTable(String(a.replay), REFERENCE_COLUMNS, po);
    console.log(`replay ${a.replay} projected on ${REFERENCE_COLUMNS.join(', ')}: ${p.rowsOut.toLocaleString('en-US')} of ${p.rowsIn.toLocaleString('en-US')} rows (${p.heartbeatRowsDropped.toLocaleString('en-US')} heartbeat rows where none of them changed) -> ${po}`);
    console.log(`next: lockstep parity diff ${po} ${out} --tolerance rel:1e-12`);
  }
}

async function cmdParityRun(a: Record<string, unknown>): Promise<void> {
  const { runParity } = await import('./parity/run-parity.ts');
  let killN = 0;
  let duplicate: number | undefined;
  for (const c of list(a.chaos) ?? []) {
    const m = /^(kill|dup):(.+)$/.exec(c);
    const n = m ? Number(m[2]) : NaN;
    if (m?.[1] === 'kill' && Number.isInteger(n) && n >= 0) killN = n;
    else if (m?.[1] === 'dup' && n > 0 && n <= 1) duplicate = n;
    else throw usage(`--chaos ${JSON.stringify(c)}: use kill:N (SIGKILLs) and/or dup:F (fraction of events delivered twice, 0 < F <= 1), e.g. kill:2,dup:0.02`);
  }
  const cert = await runParity({
    catalog: String(a.catalog),
    date: String(a.date),
    redis: a.redis as string | undefined,
    workers: a.workers as number,
    killN,
    duplicate,
    liveFactorParams: list(a['inject-skew']),
    speed: a.speed === undefined ? undefined : Number(a.speed),
    certificate: a.certificate as string | undefined,
    symbols: list(a.symbols),
    from: a.from as string | undefined,
    to: a.to as string | undefined,
    log: (m) => console.error(m),
  });
  const d = cert.diff;
  console.log(`${cert.verdict.toUpperCase()}: ${d.matchedRows.toLocaleString('en-US')} rows, ${d.mismatchedCells} mismatched cells, ${d.onlyInA} only in replay, ${d.onlyInB} only in live; served latest values: ${cert.servedLatest.mismatched} of ${cert.servedLatest.symbols} symbols differ`);
  console.log(`scenario ${JSON.stringify(cert.scenario)}; replay ${cert.outputs.replayTableHash.slice(0, 16)} live ${cert.outputs.liveTableHash.slice(0, 16)}${a.certificate ? `; certificate ${a.certificate}` : ''}`);
  if (cert.verdict !== 'parity') process.exitCode = 1;
}

async function cmdBench(a: Record<string, unknown>): Promise<void> {
  if (a.gate) {
    if (a.what !== undefined) throw usage(`--gate runs every benchmark; drop "${a.what}"`);
    // the gate's settings are fixed per mode so that its figures compare with budgets and baseline
    for (const flag of ['seconds', 'events', 'rates', 'peer']) if (a[flag] !== undefined) throw usage(`--${flag} does not apply with --gate (its settings are fixed per mode)`);
    const { runGate } = await import('./bench/gate.ts');
    const run = await runGate({ quick: Boolean(a.quick), dir: String(a.dir), json: a.json as string | undefined, budgets: a.budgets as string | undefined, baseline: a.baseline as string | undefined, updateBaseline: Boolean(a['update-baseline']) });
    process.exitCode = run.exitCode;
    return;
  }
  for (const flag of ['quick', 'update-baseline', 'budgets', 'baseline']) if (a[flag] !== undefined && a[flag] !== false) throw usage(`--${flag} only applies with --gate`);
  if (a.what === undefined) throw usage('choose a benchmark (replay, factors, live) or --gate');
  const what = String(a.what);
  if (what === 'replay') {
    const { benchReplay } = await import('./bench/replay-bench.ts');
    await benchReplay({ preset: a.preset as 'tiny' | 'day' | 'big', dir: String(a.dir), json: a.json as string | undefined });
    return;
  }
  if (what === 'factors') {
    const { benchFactors } = await import('./bench/factor-bench.ts');
    await benchFactors({ preset: a.preset as 'tiny' | 'day' | 'big', dir: String(a.dir), json: a.json as string | undefined, events: a.events as number | undefined });
    return;
  }
  if (what === 'live') {
    const { benchLive } = await import('./bench/live-bench.ts');
    let rates: number[] | undefined;
    if (a.rates !== undefined) {
      rates = String(a.rates).split(',').map(Number);
      if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw usage(`--rates ${JSON.stringify(a.rates)}: give positive whole events/s, comma-separated (e.g. 10000,50000)`);
    }
    await benchLive({ dir: String(a.dir), json: a.json as string | undefined, seconds: a.seconds as number | undefined, rates, peer: a.peer as boolean | undefined });
    return;
  }
  throw usage(`unknown benchmark "${what}"; available: replay, factors, live`);
}

function replayOptions(y: Argv) {
  return y
    .option('catalog', { type: 'string', demandOption: true, describe: 'catalog root directory' })
    .option('date', { type: 'string', demandOption: true, describe: 'market date YYYY-MM-DD (UTC date of ts_recv)' })
    .option('symbols', { type: 'string', array: true, describe: 'only these symbols (comma or space separated)' })
    .option('kinds', { type: 'string', array: true, describe: `only these kinds: ${KINDS.join(', ')} (heartbeats always included)` })
    .option('from', { type: 'string', describe: 'start time HH:MM UTC (inclusive, on ts_recv)' })
    .option('to', { type: 'string', describe: 'end time HH:MM UTC (exclusive)' })
    .option('speed', { type: 'string', default: 'max', describe: '"max" or N for N x real time (paces output only)' });
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('lockstep')
    .usage('$0 <command> [options]\n\nOne deterministic factor core for market-data replay and live serving.')
    .command('demo', 'generate the bundled sample day and replay it (no server needed)', (y) =>
      y.option('dir', { type: 'string', default: 'out/demo', describe: 'where to put the sample catalog and the factor table' }), cmdDemo)
    .command('replay', 'replay a catalog day through the factor set and write the factor table', (y) =>
      replayOptions(y)
        .option('out', { type: 'string', demandOption: true, describe: 'output Parquet file' })
        .option('stop-after', { type: 'number', describe: 'stop after N merged events (with --checkpoint, to resume later)' })
        .option('checkpoint', { type: 'string', describe: 'where --stop-after writes the fold state' })
        .option('resume', { type: 'string', describe: 'continue from a checkpoint written by --stop-after' })
        .option('json', { type: 'boolean', describe: 'print the summary as JSON' })
        .option('factor-param', FACTOR_PARAM_OPTION)
        .example('$0 replay --catalog out/demo/catalog --date 2024-03-15 --out out/f.parquet', 'replay a whole day')
        .example('$0 replay --catalog cat --date 2024-08-09 --symbols BTCUSDT --from 00:00 --to 00:05 --speed 10 --out f.parquet', 'five minutes at 10x real time'), cmdReplay)
    .command('datasets', 'create, import and inspect catalogs', (y) =>
      y
        .command('generate', 'write a deterministic synthetic market day', (g) =>
          g
            .option('date', { type: 'string', demandOption: true, describe: 'YYYY-MM-DD' })
            .option('symbols', { type: 'number', describe: 'number of symbols (default per preset)' })
            .option('seed', { type: 'number', default: 1, describe: 'PRNG seed: same arguments give byte-identical files' })
            .option('preset', { choices: ['tiny', 'day', 'big'] as const, default: 'tiny' as const, describe: 'tiny ~50k events, day ~5M, big ~50M' })
            .option('out', { type: 'string', demandOption: true, describe: 'catalog root to write' }), cmdGenerate)
        .command('stats', 'events per kind, symbol and date, and the time span', (g) =>
          g.option('catalog', { type: 'string', demandOption: true }).option('json', { type: 'boolean' }), cmdStats)
        .command('import', 'import a real dataset into the canonical catalog', (g) =>
          g
            .option('format', { choices: ['binance', 'lobster', 'taq', 'dukascopy', 'sec'] as const, demandOption: true })
            .option('in', { type: 'string', demandOption: true, describe: 'input file or directory' })
            .option('out', { type: 'string', demandOption: true, describe: 'catalog root to write' })
            .option('on-error', { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'fail on the first malformed row, or skip and count them' })
            .option('json', { type: 'boolean' })
            .example('$0 datasets import --format binance --in ../shared/data/real/crypto_binance_btcusdt --out cat', ''), cmdImport)
        .demandCommand(1, 'choose a datasets command: generate, stats or import'))
    .command('feed', 'play a catalog day into Redis Streams (what an exchange adapter would publish)', (y) =>
      replayOptions(y)
        .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379', describe: 'redis:// or rediss://user:pass@host:port' })
        .option('ns', { type: 'string', default: 'ls', describe: 'key namespace' })
        .option('shards', { type: 'number', demandOption: true, describe: 'number of input streams (symbols are hashed onto them)' })
        .option('duplicate', { type: 'number', describe: 'fault injection: publish this fraction of events twice, 1-50 events later (a producer retry)' }), cmdFeed)
    .command('live', 'run a live worker: consume shards, compute factors, serve the latest values', (y) =>
      y
        .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379' })
        .option('ns', { type: 'string', default: 'ls' })
        .option('shards', { type: 'number', demandOption: true })
        .option('factor-param', FACTOR_PARAM_OPTION)
        .option('owned', { type: 'string', array: true, describe: 'shards this worker owns (default all)' })
        .option('balance', { type: 'boolean', describe: 'hold a fair share of the shards, ceil(shards / workers present), and rebalance as --balance workers come and go (not with --owned)' })
        .conflicts('balance', 'owned')
        .option('group', { type: 'string', default: WORKER_DEFAULTS.group, describe: 'consumer group' })
        .option('consumer', { type: 'string', default: defaultConsumer(), describe: 'consumer name (reuse it when restarting a worker)' })
        .option('checkpoint-every', { type: 'number', default: WORKER_DEFAULTS.checkpointEvery, describe: 'save fold state every N events' })
        .option('checkpoint-ms', { type: 'number', default: WORKER_DEFAULTS.checkpointMs, describe: '... or every T ms' })
        .option('ttl', { type: 'number', default: WORKER_DEFAULTS.ttlSeconds, describe: 'expire latest-value keys after N s without update (0 = never)' })
        .option('lease-ms', { type: 'number', default: WORKER_DEFAULTS.leaseMs, describe: 'shard lease: a crashed worker\'s shards are free again after this long' })
        .option('exit-when-idle', { type: 'number', describe: 'exit after N ms without input (tests, batch catch-up)' }), cmdLive)
    .command('kill-switch <action>', 'stop trading engines from using values (all symbols or some): reads return null with status killed; workers keep computing', (y) =>
      y
        .positional('action', { choices: ['on', 'off', 'status'] as const, describe: 'on: switch on (needs --reason); off: switch off (the given symbols, or everything); status: print it' })
        .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379' })
        .option('ns', { type: 'string', default: 'ls' })
        .option('symbols', { type: 'string', array: true, describe: 'only these symbols (default: the whole deployment)' })
        .option('reason', { type: 'string', describe: 'why (shown to every reader)' })
        .option('by', { type: 'string', default: process.env.USER ?? 'unknown', describe: 'who' }), cmdKillSwitch)
    .command('alerts', 'alerts for live mode: watch a deployment, list the alerts firing, follow their transitions', (y) =>
      y
        .command('watch', 'check the deployment every --interval-ms and record each transition in <ns>:alerts and <ns>:alerts:state; prints them as JSON lines', (g) =>
          g
            .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379' })
            .option('ns', { type: 'string', default: 'ls' })
            .option('shards', { type: 'number', demandOption: true })
            .option('group', { type: 'string', default: 'lockstep', describe: "the workers' consumer group" })
            .option('interval-ms', { type: 'number', default: 1000, describe: 'time between checks' })
            .option('lag-entries', { type: 'number', describe: 'lag warning: more inputs than this waiting on a shard (default 10000)' })
            .option('lag-entries-critical', { type: 'number', describe: 'lag critical (default 5x --lag-entries, else 50000)' })
            .option('lag-ms', { type: 'number', describe: 'lag warning: the oldest unprocessed input is older than this (default 1000)' })
            .option('lag-ms-critical', { type: 'number', describe: 'lag critical (default 5x --lag-ms, else 5000)' })
            .option('stale-ms', { type: 'number', describe: 'stale: a worker holds the shard, inputs arrive, but no output for this long (default 5000)' })
            .option('dead-letter-window-ms', { type: 'number', describe: 'dead-letters: fires while the newest dead letter is younger than this (default 60000)' }), cmdAlertsWatch)
        .command('list', 'the alerts firing now, as recorded by alerts watch', (g) =>
          g.option('redis', { type: 'string', default: 'redis://127.0.0.1:6379' }).option('ns', { type: 'string', default: 'ls' }).option('json', { type: 'boolean' }), cmdAlertsList)
        .command('follow', 'print alert transitions as JSON lines as they are recorded (Ctrl-C to stop)', (g) =>
          g
            .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379' })
            .option('ns', { type: 'string', default: 'ls' })
            .option('from', { type: 'string', default: '$', describe: '$: from now on; 0: every kept transition first; or a stream ID' }), cmdAlertsFollow)
        .demandCommand(1, 'choose an alerts command: watch, list or follow'))
    .command('serve', 'HTTP read API over the latest values (GET /v1/features, /healthz, /metrics)', (y) =>
      y
        .option('redis', { type: 'string', default: 'redis://127.0.0.1:6379', describe: 'use a read-only ACL user (see README)' })
        .option('ns', { type: 'string', default: 'ls' })
        .option('shards', { type: 'number', demandOption: true })
        .option('host', { type: 'string', default: '127.0.0.1' })
        .option('port', { type: 'number', default: 8080 })
        .option('max-age-ms', { type: 'number', default: 5000, describe: 'values older than this are reported stale' })
        .option('command-timeout-ms', { type: 'number', default: 500 }), cmdServe)
    .command('parity', 'compare factor tables (replay vs live, or against a reference implementation)', (y) =>
      y
        .command('diff <a> <b>', 'cell-by-cell diff; exit 0 on parity, 1 on skew, 2 on bad input', (d) =>
          d
            .positional('a', { type: 'string', describe: 'Parquet factor table, Arrow IPC (.arrow/.arrows/.feather/.ipc), CSV, or redis://host:port/?ns=ls&shards=N (live capture)' })
            .positional('b', { type: 'string' })
            .option('keys', { type: 'string', default: 'symbol,source,seq', describe: 'columns that identify a row; other than the default (the input event, walked in replay order), rows are walked in the order of these columns: list them as the tables are sorted, e.g. ts_event,symbol' })
            .option('columns', { type: 'string', array: true, describe: 'compare only these value columns, e.g. a reference table with a few factors' })
            .option('tolerance', { type: 'string', default: 'exact', describe: 'exact | ulp:N | abs:X | rel:X' })
            .option('factor-tolerance', { type: 'string', array: true, describe: 'per factor, e.g. ma_5m=rel:1e-12' })
            .option('json', { type: 'string', describe: 'write the machine report here' })
            .option('report', { type: 'string', describe: 'write a self-contained HTML report here' }), cmdParityDiff)
        .command('run', 'replay a day (A), run it through Redis and live workers (B), diff, certify', (d) =>
          d
            .option('catalog', { type: 'string', demandOption: true })
            .option('date', { type: 'string', demandOption: true })
            .option('redis', { type: 'string', describe: 'default: a private redis-server on a free port' })
            .option('workers', { type: 'number', default: 1 })
            .option('chaos', { type: 'string', describe: 'kill:N — SIGKILL a worker N times and restart it; dup:F — deliver a fraction F of events twice (comma-separate to combine)' })
            .option('inject-skew', { type: 'string', array: true, describe: 'prove skew is caught: the live side runs with this factor parameter changed (name.param=value)' })
            .option('speed', { type: 'number', describe: 'feed at N x real time (default: as fast as possible)' })
            .option('certificate', { type: 'string', describe: 'write the certificate (JSON) here' })
            .option('symbols', { type: 'string', array: true, describe: 'only these symbols (both paths)' })
            .option('from', { type: 'string', describe: 'start time HH:MM UTC on ts_recv (both paths)' })
            .option('to', { type: 'string', describe: 'end time HH:MM UTC, exclusive (both paths)' }), cmdParityRun)
        .command('reference', 'an independent DuckDB SQL implementation of ma_5m/20m/60m and vwap_session, keyed like the replay, to diff against', (d) =>
          d
            .option('catalog', { type: 'string', demandOption: true })
            .option('date', { type: 'string', demandOption: true })
            .option('out', { type: 'string', demandOption: true, describe: 'reference table: .parquet or .csv' })
            .option('symbols', { type: 'string', array: true, describe: 'only these symbols (as given to the replay)' })
            .option('from', { type: 'string', describe: 'start time HH:MM UTC (as given to the replay)' })
            .option('to', { type: 'string', describe: 'end time HH:MM UTC (as given to the replay)' })
            .option('replay', { type: 'string', describe: 'a replay factor table to restrict to the reference\'s columns and rows ...' })
            .option('replay-out', { type: 'string', describe: '... written here, ready for parity diff' })
            .option('verbose', { type: 'boolean', describe: 'print each SQL step and its time' })
            .example('$0 parity reference --catalog cat --date 2024-03-15 --out ref.parquet --replay replay.parquet --replay-out replay-ma.parquet', '')
            .example('$0 parity diff replay-ma.parquet ref.parquet --tolerance rel:1e-12', 'then hold the replay to it'), cmdParityReference)
        .demandCommand(1, 'try: lockstep parity diff A.parquet B.parquet'))
    .command('factors', 'the registered factor set', (y) =>
      y.command('list', 'name, version, parameters and code hash of each factor', (g) => g.option('json', { type: 'boolean' }), cmdFactors).demandCommand(1, 'try: lockstep factors list'))
    .command('bench [what]', 'benchmarks: replay, factors, live; --gate checks them all against budgets and baseline', (y) =>
      y
        .positional('what', { type: 'string', describe: 'replay | factors | live (omit with --gate)' })
        .option('gate', { type: 'boolean', describe: 'release gate: run all benchmarks, check bench/budgets.json and bench/baseline.json; exit 1 on a breach' })
        .option('quick', { type: 'boolean', describe: 'gate: the CI-sized run (~1M-event day, ~2 min on 2 cores)' })
        .option('update-baseline', { type: 'boolean', describe: 'gate: record this run as the baseline of its mode (refused if over budget)' })
        .option('budgets', { type: 'string', describe: 'gate: budgets file (default bench/budgets.json)' })
        .option('baseline', { type: 'string', describe: 'gate: baseline file (default bench/baseline.json)' })
        .option('preset', { choices: ['tiny', 'day', 'big'] as const, default: 'day' as const })
        .option('dir', { type: 'string', default: 'out/bench', describe: 'working directory for generated data' })
        .option('json', { type: 'string', describe: 'also write the results as JSON here (gate: default out/bench/gate.json)' })
        .option('seconds', { type: 'number', describe: 'live: seconds per fixed-rate run (default 10)' })
        .option('rates', { type: 'string', describe: 'live: input rates in events/s, comma-separated (default 10000,50000)' })
        .option('peer', { type: 'boolean', describe: 'live: also run the echo relay peer at each rate (default true; --no-peer skips it)' })
        .option('events', { type: 'number', describe: 'factors: events held in memory (default 2,000,000)' }), cmdBench)
    .command('bench-phase <phase>', false, (y) =>
      y.positional('phase', { choices: ['raw', 'merge', 'replay', 'encode'] as const, demandOption: true }).option('catalog', { type: 'string', demandOption: true }).option('out', { type: 'string', demandOption: true }),
      async (a) => {
        const { runPhase } = await import('./bench/replay-bench.ts');
        console.log(JSON.stringify(await runPhase(a.phase as 'raw' | 'merge' | 'replay' | 'encode', String(a.catalog), String(a.out))));
      })
    .demandCommand(1, 'choose a command; try: lockstep demo')
    .strict()
    .recommendCommands()
    .help()
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      console.error(`lockstep: ${msg}\n(run with --help for usage)`);
      process.exit(2);
    })
    .parseAsync();
}

try {
  await main(hideBin(process.argv));
} catch (e) {
  if (e instanceof UserError) {
    console.error(`lockstep: ${e.message}`);
    process.exit(e.exitCode);
  }
  throw e;
}
