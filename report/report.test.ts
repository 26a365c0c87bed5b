/**
 * `lockstep report` through the real CLI on a real replay output, its figures checked against the
 * table read whole, and the page opened in a real headless Chromium (skipped, with the reason
 * printed, where none is installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalog } from '../replay/catalog.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { artifactsDir, chromiumSkipReason, launchChromium } from '../dashboard/chromium.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';
import { summarizeTable } from './report.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8' });
let dir: string;
let table: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ls-report-'));
  writeCatalog(join(dir, 'cat'), fixtureRows(6000));
  table = join(dir, 'factors.parquet');
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: table, progress: false });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep report', () => {
  it('counts, nulls, warm-up nulls, min, max and mean equal the table read whole', async () => {
    const whole = await readFactorTable(table);
    const { summary } = await summarizeTable({ input: table });
    expect(summary.rows).toBe(whole.symbol.length);
    for (const c of summary.columns) {
      const v = whole.values[c.name];
      const started = new Set<string>();
      let nulls = 0;
      let warmup = 0;
      const finite: number[] = [];
      v.forEach((x, i) => {
        if (x === null) {
          nulls++;
          if (!started.has(whole.symbol[i])) warmup++;
          return;
        }
        started.add(whole.symbol[i]);
        if (Number.isFinite(x)) finite.push(x);
      });
      expect([c.name, c.nulls, c.warmup]).toEqual([c.name, nulls, warmup]);
      expect(c.min).toBe(finite.length ? Math.min(...finite) : null);
      expect(c.max).toBe(finite.length ? Math.max(...finite) : null);
      if (c.hist) expect(c.hist.counts.reduce((a, b) => a + b, 0) + c.hist.under + c.hist.over).toBe(finite.length);
    }
  });

  it('writes one self-contained page: no address outside the file, every charted symbol present', () => {
    const out = join(dir, 'report.html');
    const r = cli('report', table, '--out', out, '--symbols', 'AAA,CCC');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*report\.html: \d[\d,]* rows, 3 symbols, 2 charted, \d+ KB\n$/);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain('<h3>AAA ');
    expect(html).toContain('<h3>CCC ');
    expect(html).not.toContain('<h3>BBB ');
  });

  it.each([
    [['report', '/nonexistent.parquet', '--out', '/tmp/x.html'], /nonexistent\.parquet/],
    [['report', 'TABLE', '--out', 'OUT', '--symbols', 'ZZZ'], /field symbol.*no rows for --symbols ZZZ/],
    [['report', 'CATALOG_FILE', '--out', 'OUT'], /missing key column|not a factor table/],
  ])('refuses bad input in one line, exit 2: %j', (args, why) => {
    const catFile = join(dir, 'cat', readdirFirstParquet(join(dir, 'cat')));
    const r = cli(...args.map((a) => (a === 'TABLE' ? table : a === 'OUT' ? join(dir, 'bad.html') : a === 'CATALOG_FILE' ? catFile : a)));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  describe.skipIf(chromiumSkipReason !== null)('in a real Chromium', () => {
    it('opens offline with no console errors, draws every chart, and is kept as a screenshot', async () => {
      const out = join(dir, 'page.html');
      expect(cli('report', table, '--out', out).status).toBe(0);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('request', (q) => !q.url().startsWith('file:') && requests.push(q.url()));
        await page.setViewport({ width: 1200, height: 900 });
        await page.goto(`file://${out}`);
        await page.waitForFunction('window.__reportReady === true', { timeout: 30_000 });
        const charts = await page.$$eval('.chart', (els) => els.map((e) => e.querySelectorAll('canvas').length));
        expect(charts.length).toBe(3 * 5); // three symbols, five panels each
        expect(charts.every((n) => n === 1)).toBe(true);
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
        const shot = join(artifactsDir(), 'report.png');
        await page.screenshot({ path: shot });
        expect(statSync(shot).size).toBeGreaterThan(10_000);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
  if (chromiumSkipReason !== null) it.skip(chromiumSkipReason, () => {});
});

function readdirFirstParquet(root: string): string {
  const walk = (d: string): string | null => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) {
        const r = walk(join(d, f.name));
        if (r) return join(f.name, r);
      } else if (f.name.endsWith('.parquet')) return f.name;
    }
    return null;
  };
  return walk(root)!;
}
