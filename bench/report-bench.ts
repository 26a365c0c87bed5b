/**
 * `lockstep bench report`: issue 19's speed target for `lockstep report`, measured: the day
 * preset's factor table (the catalog `bench replay` generates, replayed once through the default
 * factor set) turned into its HTML page by the real CLI in a child process, in at most 1 GB of RSS,
 * and the page opening in a real Chromium in under 2 s.
 *
 *  - raw (the peer, same run): parquet-wasm decoding every row group of the same table, in this
 *    process. The report reads the table twice (aggregate.ts), so its floor is about two decodes;
 *    the ratio report ÷ raw is what compares across machines.
 *  - report: `lockstep report TABLE --out FILE` under /usr/bin/time (peak RSS, user + system CPU),
 *    wall time from spawn to exit, node start-up and wasm load included (that is what a user waits).
 *  - open: the page from file:// in headless Chromium, each run in a fresh browser context.
 *    "Opens" is navigation start → every chart drawn, by the page's own clock (performance.now(),
 *    whose origin is navigation start): the page sets `window.__reportReady` after constructing its
 *    last uPlot chart; a hook installed before the page's scripts records the time two animation
 *    frames later (uPlot draws in a microtask after construction, so by then every canvas is drawn
 *    and painted), or the load event's end if later. Each run also checks that every chart holds a
 *    canvas and that the page logged no error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from '../replay/worker-thread.ts';
import { ensureCatalog, type BenchPreset } from './factor-bench.ts';

const BENCH_DATE = '2024-03-15';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const BIN = join(HERE, FROM_SOURCE ? '..' : '../..', 'bin/lockstep.js');

/** Issue 19 § Speed: the targets this bench reports as met or not. */
export const REPORT_TARGETS = { rssMb: 1024, openMs: 2000 } as const;

export interface ReportRun {
  seconds: number;
  /** User + system CPU of the child, every thread (from /usr/bin/time). */
  cpuSeconds: number;
  maxRssMb: number;
}

export interface OpenRun {
  /** Navigation start → every chart drawn (or the load event's end, if later), ms. */
  ms: number;
  /** Navigation start → the page's script finished constructing its charts, ms. */
  readyMs: number;
  /** Navigation start → the load event's end, ms. */
  loadMs: number;
}

export interface ReportBenchResult {
  preset: string;
  table: string;
  rows: number;
  rowGroups: number;
  tableMb: number;
  /** The peer: parquet-wasm decode of every row group of the table (median of runs). */
  raw: { seconds: number; cpuSeconds: number; rowsPerSec: number };
  /** The CLI: median wall and CPU seconds, the largest peak RSS over the runs. */
  report: { seconds: number; cpuSeconds: number; maxRssMb: number; rowsPerSec: number; runs: ReportRun[] };
  html: { bytes: number; charts: number; symbols: number };
  open: { medianMs: number; maxMs: number; medianReadyMs: number; medianLoadMs: number; runs: OpenRun[] };
  /**
   * report ÷ raw decode, wall seconds and CPU seconds (lower is better; the report decodes the
   * table twice, so about 2 is its floor)
   */
  ratios: { reportVsRaw: number; reportCpuVsRaw: number };
  targets: { rssMb: number; openMs: number; rssMet: boolean; openMet: boolean };
  loadAvg: number[];
}

export interface ReportBenchOptions {
  preset?: 'tiny' | 'day' | 'big';
  dir: string;
  /** A factor table to report on instead of the preset's (the bench test's small table). */
  table?: string;
  json?: string;
  /** CLI runs (default 3) and browser opens (default 5). */
  repeat?: number;
  opens?: number;
  log?: (s: string) => void;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The preset's catalog (shared with `bench replay`) and its factor table, made once and reused. */
export async function prepareTable(dir: string, preset: BenchPreset, log: (s: string) => void): Promise<string> {
  const catalog = await ensureCatalog(dir, preset, log);
  const marker = join(catalog, '.complete');
  const table = join(dir, `report-factors-${preset}.parquet`);
  const made = `${table}.catalog.json`;
  // the gate's quick mode writes a 10-symbol day into the same catalog folder: a table made from
  // another catalog than the one there now is made again
  const catalogId = readFileSync(marker, 'utf8');
  if (!existsSync(table) || !existsSync(made) || readFileSync(made, 'utf8') !== catalogId) {
    const { runReplay } = await import('../replay/run-replay.ts');
    log(`replaying ${BENCH_DATE} of ${catalog} into ${table} (once; reused by later runs)`);
    const tmp = join(dir, `report-factors-${preset}.tmp.parquet`);
    await runReplay({ catalog, date: BENCH_DATE, out: tmp, progress: false });
    renameSync(tmp, table);
    writeFileSync(made, catalogId);
  }
  return table;
}

/** The peer: every row group of the table decoded by parquet-wasm, as the report's reader does. */
export async function rawDecode(table: string): Promise<{ rows: number; rowGroups: number; seconds: number; cpuSeconds: number }> {
  const { openParquet } = await import('../replay/parquet-io.ts');
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const src = await openParquet(table);
  let rows = 0;
  for (let g = 0; g < src.numRowGroups; g++) rows += src.readRowGroup(g).numRows;
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu);
  return { rows, rowGroups: src.numRowGroups, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** One `lockstep report` in a child process under /usr/bin/time. */
export function runReport(table: string, out: string): ReportRun & { stdout: string } {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time not found (Debian: apt-get install time): the report bench measures the child\'s peak RSS with it');
  rmSync(out, { force: true });
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'report-bench %M %U %S', process.execPath, BIN, 'report', table, '--out', out], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  const m = /report-bench (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null) throw new Error(`lockstep report ${table} failed (exit ${r.status}): ${(r.stderr ?? '').replace(/report-bench .*\n?/, '').trim().slice(-2000)}`);
  return { seconds, cpuSeconds: Number(m[2]) + Number(m[3]), maxRssMb: Number(m[1]) / 1024, stdout: r.stdout };
}

/**
 * Installed before the page's own scripts: records when the page says its charts are built, and
 * two animation frames later (drawn and painted). A property setter, so the page is not changed.
 */
const HOOK = `(() => {
  let v;
  Object.defineProperty(window, '__reportReady', { configurable: true, get() { return v; }, set(x) {
    v = x;
    window.__benchReadyAt = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__benchDrawnAt = performance.now(); }));
  } });
})();`;

/** Opens the page `runs` times, each in a fresh browser context. */
export async function openPage(html: string, runs: number): Promise<{ runs: OpenRun[]; charts: number }> {
  const { chromiumSkipReason, launchChromium } = await import('../dashboard/chromium.ts');
  if (chromiumSkipReason !== null) throw new Error(chromiumSkipReason);
  const browser = await launchChromium();
  const out: OpenRun[] = [];
  let charts = 0;
  try {
    for (let r = 0; r < runs; r++) {
      const ctx = await browser.createBrowserContext();
      try {
        const page = await ctx.newPage();
        const errors: string[] = [];
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.setViewport({ width: 1200, height: 900 });
        await page.evaluateOnNewDocument(HOOK);
        await page.goto(`file://${resolve(html)}`, { waitUntil: 'load', timeout: 120_000 });
        await page.waitForFunction('window.__benchDrawnAt !== undefined', { timeout: 120_000 });
        const m = (await page.evaluate(`(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          return { drawn: window.__benchDrawnAt, ready: window.__benchReadyAt, load: nav.loadEventEnd,
            canvases: [...document.querySelectorAll('.chart')].map((e) => e.querySelectorAll('canvas').length) };
        })()`)) as { drawn: number; ready: number; load: number; canvases: number[] };
        if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join('; ')}`);
        if (m.canvases.length === 0 || m.canvases.some((n) => n !== 1)) throw new Error(`not every chart was drawn: canvases per chart ${JSON.stringify(m.canvases)}`);
        charts = m.canvases.length;
        out.push({ ms: Math.max(m.drawn, m.load), readyMs: m.ready, loadMs: m.load });
      } finally {
        await ctx.close();
      }
    }
  } finally {
    await browser.close();
  }
  return { runs: out, charts };
}

export async function benchReport(opts: ReportBenchOptions): Promise<ReportBenchResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const preset = opts.preset ?? 'day';
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const table = opts.table !== undefined ? resolve(opts.table) : await prepareTable(dir, preset, log);
  const repeat = opts.repeat ?? 3;
  const html = join(dir, 'report-bench.html');
  const raws: number[] = [];
  const rawCpus: number[] = [];
  const runs: ReportRun[] = [];
  let rows = 0;
  let rowGroups = 0;
  let stdout = '';
  // peer and CLI alternate, so a change in the machine's load hits both
  for (let r = 0; r < repeat; r++) {
    const d = await rawDecode(table);
    rows = d.rows;
    rowGroups = d.rowGroups;
    raws.push(d.seconds);
    rawCpus.push(d.cpuSeconds);
    const run = runReport(table, html);
    stdout = run.stdout;
    runs.push({ seconds: run.seconds, cpuSeconds: run.cpuSeconds, maxRssMb: run.maxRssMb });
    log(`  run ${r + 1}/${repeat} raw decode ${d.seconds.toFixed(2)} s (CPU ${d.cpuSeconds.toFixed(2)} s); report ${run.seconds.toFixed(2)} s (CPU ${run.cpuSeconds.toFixed(2)} s), peak RSS ${run.maxRssMb.toFixed(0)} MB`);
  }
  const said = /: ([\d,]+) rows, (\d+) symbols, (\d+) charted/.exec(stdout);
  if (said === null || Number(said[1].replace(/,/g, '')) !== rows) throw new Error(`lockstep report said "${stdout.trim()}": expected ${rows.toLocaleString('en-US')} rows`);
  const opened = await openPage(html, opts.opens ?? 5);
  const rawSeconds = median(raws);
  const rawCpu = median(rawCpus);
  const seconds = median(runs.map((x) => x.seconds));
  const cpuSeconds = median(runs.map((x) => x.cpuSeconds));
  const maxRssMb = Math.max(...runs.map((x) => x.maxRssMb));
  const openMs = opened.runs.map((x) => x.ms);
  const result: ReportBenchResult = {
    preset: opts.table !== undefined ? 'custom' : preset,
    table,
    rows,
    rowGroups,
    tableMb: statSync(table).size / 2 ** 20,
    raw: { seconds: rawSeconds, cpuSeconds: rawCpu, rowsPerSec: rows / rawSeconds },
    report: { seconds, cpuSeconds, maxRssMb, rowsPerSec: rows / seconds, runs },
    html: { bytes: statSync(html).size, charts: opened.charts, symbols: Number(said[2]) },
    open: { medianMs: median(openMs), maxMs: Math.max(...openMs), medianReadyMs: median(opened.runs.map((x) => x.readyMs)), medianLoadMs: median(opened.runs.map((x) => x.loadMs)), runs: opened.runs },
    ratios: { reportVsRaw: seconds / rawSeconds, reportCpuVsRaw: cpuSeconds / rawCpu },
    targets: { ...REPORT_TARGETS, rssMet: maxRssMb <= REPORT_TARGETS.rssMb, openMet: Math.max(...openMs) < REPORT_TARGETS.openMs },
    loadAvg: (await import('node:os')).loadavg(),
  };
  log(formatReportBench(result));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  return result;
}

export function formatReportBench(r: ReportBenchResult): string {
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    `\nreport benchmark, ${r.preset === 'custom' ? r.table : `preset ${r.preset}`}: ${r.rows.toLocaleString('en-US')}-row factor table (${r.rowGroups} row groups, ${r.tableMb.toFixed(0)} MB), load average ${r.loadAvg.map((x) => x.toFixed(1)).join(' ')}`,
    '| step | time | CPU | peak RSS | vs raw decode |',
    '|---|---|---|---|---|',
    `| raw parquet-wasm decode, every row group (peer) | ${r.raw.seconds.toFixed(2)} s | ${r.raw.cpuSeconds.toFixed(2)} s | | 1.00 |`,
    `| lockstep report (CLI, child process) | ${r.report.seconds.toFixed(2)} s | ${r.report.cpuSeconds.toFixed(2)} s | ${r.report.maxRssMb.toFixed(0)} MB | ${r.ratios.reportVsRaw.toFixed(2)} (CPU ${r.ratios.reportCpuVsRaw.toFixed(2)}) |`,
    '',
    `page: ${(r.html.bytes / 1024).toFixed(0)} KB, ${r.html.symbols} symbols, ${r.html.charts} charts; opens in Chromium (navigation start → every chart drawn), ${r.open.runs.length} runs: median ${r.open.medianMs.toFixed(0)} ms, max ${r.open.maxMs.toFixed(0)} ms (script done ${r.open.medianReadyMs.toFixed(0)} ms, load event ${r.open.medianLoadMs.toFixed(0)} ms)`,
    `issue 19 targets: peak RSS ≤ ${r.targets.rssMb} MB ${met(r.targets.rssMet)}; opens < ${r.targets.openMs} ms ${met(r.targets.openMet)} (max over runs)`,
  ].join('\n');
}
