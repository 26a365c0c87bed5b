/**
 * The report bench's mechanics on a small real table (not its speed): the real CLI runs in a child
 * under /usr/bin/time, the peer decodes the same rows, the page opens in a real Chromium with every
 * chart drawn and timed, the JSON holds what was printed, and a table the report refuses fails the
 * bench with the CLI's own reason.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason } from '../dashboard/chromium.ts';
import { writeCatalog } from '../replay/catalog.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { runReplay } from '../replay/run-replay.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';
import { benchReport, formatReportBench, runReport, type ReportBenchResult } from './report-bench.ts';

let dir: string;
let table: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ls-report-bench-'));
  writeCatalog(join(dir, 'cat'), fixtureRows(6000));
  table = join(dir, 'factors.parquet');
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: table, progress: false });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(chromiumSkipReason !== null)('bench report', () => {
  it('measures the CLI against the raw decode of the same rows, and the page opening with every chart drawn', async () => {
    const json = join(dir, 'r.json');
    const lines: string[] = [];
    const r = await benchReport({ dir: join(dir, 'bench'), table, json, repeat: 2, opens: 3, log: (s) => lines.push(s) });
    expect(r.rows).toBe((await openParquet(table)).numRows);
    expect(r.report.runs).toHaveLength(2);
    for (const run of r.report.runs) {
      expect(run.maxRssMb).toBeGreaterThan(30); // a node process with wasm loaded: a real child's RSS
      expect(run.cpuSeconds).toBeGreaterThan(0);
    }
    expect(r.report.maxRssMb).toBe(Math.max(...r.report.runs.map((x) => x.maxRssMb)));
    expect(r.ratios.reportVsRaw).toBeCloseTo(r.report.seconds / r.raw.seconds, 9);
    expect(r.raw.cpuSeconds).toBeGreaterThan(0);
    expect(r.ratios.reportCpuVsRaw).toBeCloseTo(r.report.cpuSeconds / r.raw.cpuSeconds, 9);
    // three fixture symbols, five panels each, every one holding its drawn canvas
    expect([r.html.symbols, r.html.charts]).toEqual([3, 15]);
    expect(r.html.bytes).toBe(statSync(join(dir, 'bench', 'report-bench.html')).size);
    expect(r.open.runs).toHaveLength(3);
    for (const o of r.open.runs) {
      expect(o.readyMs).toBeGreaterThan(0);
      // drawn is two frames after the script built the charts, and never before the load event
      expect(o.ms).toBeGreaterThan(o.readyMs);
      expect(o.ms).toBeGreaterThanOrEqual(o.loadMs);
    }
    expect(r.open.maxMs).toBe(Math.max(...r.open.runs.map((x) => x.ms)));
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)) as ReportBenchResult);
    expect(lines.at(-1)).toBe(formatReportBench(r));
    expect(lines.at(-1)).toMatch(/issue 19 targets: peak RSS ≤ 1024 MB met; opens < 2000 ms (met|NOT met)/);
  }, 180_000);

  it('a table the report refuses fails the bench with the CLI\'s reason', () => {
    const catFile = findParquet(join(dir, 'cat'));
    expect(() => runReport(catFile, join(dir, 'bad.html'))).toThrow(/lockstep report .* failed \(exit 2\): .*(missing key column|not a factor table)/);
  });
});
if (chromiumSkipReason !== null) it.skip(chromiumSkipReason, () => {});

function findParquet(root: string): string {
  for (const f of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, f.name);
    if (f.isDirectory()) {
      const r = findParquet(p);
      if (r) return r;
    } else if (f.name.endsWith('.parquet')) return p;
  }
  return '';
}
