import { spawnSync } from 'node:child_process';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FundamentalEvent } from '../core/events.ts';
import { decodeEvents } from '../replay/catalog-schema.ts';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import type { ImportReport } from './import-report.ts';
import { importSec } from './import-sec.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('importSec on the real AAPL and TSLA fundamentals', 'fundamentals_sec');
const dir = REAL.path('fundamentals_sec');
const MS = 1_000_000n;

interface Row {
  e: FundamentalEvent;
  date: string;
  form: string | null;
  periodEndMs: number | null;
}

async function readBack(files: string[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const f of files.filter((x) => path.basename(path.dirname(path.dirname(x))) === 'fundamental')) {
    const src = await openParquet(f);
    const t = src.readRowGroup(0);
    decodeEvents('fundamental', t, f, 0).forEach((e, i) => {
      const pe = t.getChild('period_end')?.get(i) as number | null | undefined;
      out.push({ e: e as FundamentalEvent, date: path.basename(path.dirname(f)), form: (t.getChild('form')?.get(i) as string | null) ?? null, periodEndMs: pe ?? null });
    });
  }
  return out;
}

const find = (rows: Row[], symbol: string, fy: number, fp: string) => rows.filter((r) => r.e.symbol === symbol && r.e.fiscalYear === fy && r.e.fiscalPeriod === fp);

describe.skipIf(!REAL.present)('importSec on the real AAPL and TSLA fundamentals', () => {
  let out: string;
  let report: ImportReport;
  let rows: Row[];
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'lockstep-sec-'));
    report = await importSec(dir, out);
    rows = await readBack(report.files);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('imports every row, one partition per announcement date', () => {
    // and the four splits derived from the jumps in shares outstanding (AAPL 7:1, 4:1; TSLA 5:1, 3:1)
    expect(report.events).toEqual({ fundamental: 67 + 24, corporate_action: 4 });
    expect(rows.length).toBe(91);
    for (const r of rows) expect(r.date).toBe(new Date(Number(r.e.tsRecv / MS)).toISOString().slice(0, 10));
  });

  it('AAPL FY2019 10-K: Q4 at the 8-K instant (EDT), eps = FY - Q1 - Q2 - Q3, ttm by hand', () => {
    const [q4] = find(rows, 'AAPL', 2019, 'Q4');
    // announce_accepted_et 2019-10-30T16:30:40; DST runs to 2019-11-03, so EDT = UTC-4 -> 20:30:40Z
    const ns = BigInt(Date.UTC(2019, 9, 30, 20, 30, 40)) * MS;
    expect(q4.e.tsEvent).toBe(ns);
    expect(q4.e.tsRecv).toBe(ns);
    expect(q4.date).toBe('2019-10-30');
    expect(report.files).toContain(path.join(out, 'fundamental', '2019-10-30', 'AAPL.parquet'));
    // FY 11.89 - (Q1 4.18 + Q2 2.46 + Q3 2.18)
    expect(q4.e.eps).toBe(3.07);
    // Q4 3.07 + Q3 2.18 + Q2 2.46 + Q1 4.18
    expect(q4.e.epsTtm).toBe(11.89);
    expect(q4.form).toBe('10-K');
    expect(q4.periodEndMs).toBe(Date.UTC(2019, 8, 28));
    expect(q4.e.bookValuePerShare).toBe(20.3653);
  });

  it('AAPL FY2020 Q1: EST in January, ttm spans the fiscal-year change', () => {
    const [q1] = find(rows, 'AAPL', 2020, 'Q1');
    // announce_accepted_et 2020-01-28T16:30:40, EST = UTC-5 -> 21:30:40Z
    expect(q1.e.tsEvent).toBe(BigInt(Date.UTC(2020, 0, 28, 21, 30, 40)) * MS);
    expect(q1.date).toBe('2020-01-28');
    // Q1'20 4.99 + Q4'19 3.07 + Q3'19 2.18 + Q2'19 2.46
    expect(q1.e.epsTtm).toBe(12.7);
    expect(q1.e.eps).toBe(4.99);
    expect(q1.form).toBe('10-Q');
  });

  it('falls back to filed_date 16:00 ET before AAPL published 8-K times', () => {
    const [q1] = find(rows, 'AAPL', 2015, 'Q1');
    // filed_date 2015-01-28, no times: 16:00 EST = 21:00Z
    expect(q1.e.tsEvent).toBe(BigInt(Date.UTC(2015, 0, 28, 21, 0, 0)) * MS);
    const [first] = find(rows, 'AAPL', 2009, 'Q3');
    expect(first.e.seq).toBe(1n);
    expect(Number.isNaN(first.e.epsTtm)).toBe(true);
  });

  it('numbers each symbol in announcement order', () => {
    for (const s of ['AAPL', 'TSLA']) {
      const mine = rows.filter((r) => r.e.symbol === s).sort((a, b) => Number(a.e.seq - b.e.seq));
      mine.forEach((r, i) => expect(r.e.seq).toBe(BigInt(i + 1)));
      for (let i = 1; i < mine.length; i++) expect(mine[i].e.tsRecv > mine[i - 1].e.tsRecv).toBe(true);
    }
  });

  it('TSLA imports with gaps: unknown Q4 eps and ttm stay NaN and are counted', () => {
    expect(rows.filter((r) => r.e.symbol === 'TSLA').length).toBe(24);
    const note = report.notes.find((n) => n.startsWith('TSLA:'))!;
    expect(note).toMatch(/24 rows; 15 fiscal quarters missing/);
    expect(note).toMatch(/Q4 eps unknown in 1 /);
    expect(note).toMatch(/eps_ttm unknown in 8;/);
    expect(note).toMatch(/2 splits \(0 from the splits file, 2 derived\)/);
    expect(report.notes).toContain(
      'TSLA: split 5:1 derived from shares outstanding 186,000,000 (FY2020 Q2) -> 948,000,000 (FY2020 Q3, public 2020-10-21 16:38:49 ET): known from then, ex date after 2020-07-22 16:54:41 ET (not in the data: give --splits for it)',
    );
    const [q4of2017] = find(rows, 'TSLA', 2017, 'Q4'); // Q1 and Q2 2017 are missing
    expect(Number.isNaN(q4of2017.e.eps)).toBe(true);
    expect(Number.isNaN(q4of2017.e.epsTtm)).toBe(true);
    // FY2020 0.64 - (0.08 + 0.5) / 5 - 0.27: Q1 and Q2 restated to the post-split basis of Q3 and FY
    expect(find(rows, 'TSLA', 2020, 'Q4')[0].e.eps).toBe(0.254);
    const [q4of2018] = find(rows, 'TSLA', 2018, 'Q4');
    expect(q4of2018.e.eps).toBe(0.94); // -5.72 - (-4.19 - 4.22 + 1.75)
    expect(q4of2018.e.epsTtm).toBe(-5.72);
    expect(q4of2018.date).toBe('2019-01-30');
  });
});

describe('importSec on malformed rows', () => {
  let tmp: string;
  const header =
    'symbol,cik,fiscal_year,fiscal_period,form,period_start,period_end,period_months,eps_basic,eps_diluted,net_income_usd,revenue_usd,stockholders_equity_usd,shares_outstanding,shares_outstanding_asof,shares_source,book_value_per_share,announce_date,announce_accepted_et,announce_8k_accession,filed_date,filed_accepted_et,accession';
  const row = (fy: string, fp: string, eps: string, announce: string) =>
    `ZZZ,1,${fy},${fp},10-Q,2019-01-01,2019-03-31,3,${eps},${eps},1,1,1,100,2019-03-31,x,1.5,2019-04-30,${announce},a,2019-05-01,,b`;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-sec-bad-'));
    const lines = [
      header,
      row('2019', 'Q1', '1.01', '2019-04-30T16:30:00'), // line 2: good
      row('2019', 'Q5', '1.02', '2019-07-30T16:30:00'), // line 3: bad period
      row('2019', 'Q2', '1.02', '2019-07-30T16:30:00') + ',extra', // line 4: wrong column count
      row('2019', 'Q3', 'n/a', '2019-10-30T16:30:00'), // line 5: non-numeric eps
      row('2019', 'Q3', '1.03', '2019-10-30T25:30:00'), // line 6: unparsable time
    ];
    writeFileSync(path.join(tmp, 'ZZZ_quarterly_fundamentals_sec.csv'), lines.join('\n') + '\n');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('fails on the first malformed row by default', async () => {
    const err = await importSec(tmp, path.join(tmp, 'out-fail')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file: path.join(tmp, 'ZZZ_quarterly_fundamentals_sec.csv'), row: 3, rowLabel: 'line', field: 'fiscal_period', value: 'Q5' });
  });

  it('with onError skip, counts and samples the bad rows', async () => {
    const r = await importSec(tmp, path.join(tmp, 'out-skip'), { onError: 'skip' });
    expect(r.rejected).toBe(4);
    expect(r.rejectedSample.map((x) => [x.line, x.field])).toEqual([
      [3, 'fiscal_period'],
      [4, '(row)'],
      [5, 'eps_diluted'],
      [6, 'announce_accepted_et'],
    ]);
    const back = await readBack(r.files);
    expect(back.map((b) => [b.e.fiscalPeriod, b.e.eps, b.date])).toEqual([['Q1', 1.01, '2019-04-30']]);
  });
});

describe('splits file and share-count plausibility', () => {
  let tmp: string;
  const header =
    'symbol,cik,fiscal_year,fiscal_period,form,period_start,period_end,period_months,eps_basic,eps_diluted,net_income_usd,revenue_usd,stockholders_equity_usd,shares_outstanding,shares_outstanding_asof,shares_source,book_value_per_share,announce_date,announce_accepted_et,announce_8k_accession,filed_date,filed_accepted_et,accession';
  const row = (fy: string, fp: string, eps: string, shares: string, bvps: string, announce: string) =>
    `ZZZ,1,${fy},${fp},10-Q,,2019-03-31,3,${eps},${eps},1,1,1,${shares},2019-03-31,x,${bvps},,${announce},a,2019-05-01,,b`;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'lockstep-sec-splits-'));
    writeFileSync(
      path.join(tmp, 'ZZZ_quarterly_fundamentals_sec.csv'),
      [
        header,
        row('2019', 'Q1', '1.00', '1000000', '10.5', '2019-04-30T16:30:00'),
        row('2019', 'Q2', '2.00', '1010', '10300', '2019-07-30T16:30:00'), // shares in thousands
        row('2019', 'Q3', '1.50', '3030000', '3.5', '2019-10-30T16:30:00'), // after a 3:1 split
        row('2019', 'FY', '2.75', '3000000', '3.6', '2020-01-30T16:30:00'), // 1/3 + 2/3 + 1.50 + Q4 1.25
      ].join('\n') + '\n',
    );
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const csv = () => path.join(tmp, 'ZZZ_quarterly_fundamentals_sec.csv');

  it('corrects a share count in thousands, derives the 3:1 split, and restates Q1-Q3 before deriving Q4', async () => {
    const r = await importSec(csv(), path.join(tmp, 'out'));
    expect(r.events).toEqual({ fundamental: 4, corporate_action: 1 });
    expect(r.corrected).toEqual([
      {
        file: csv(), line: 3, field: 'shares_outstanding', value: '1010', corrected: '1010000',
        reason: "FY2019 Q2: 1,010 shares is 1/1,000 of the previous row's 1,000,000 (FY2019 Q1): a units error; shares x 1000, book_value_per_share 10300 -> 10.3",
      },
    ]);
    const back = await readBack(r.files);
    const q4 = back.find((b) => b.e.fiscalPeriod === 'Q4')!.e;
    // 2.75 - 1.00 / 3 - 2.00 / 3 - 1.50, each restated with 6 more decimals
    expect(q4.eps).toBe(0.25);
    expect(q4.epsTtm).toBe(2.75);
    expect(back.find((b) => b.e.fiscalPeriod === 'Q2')!.e.bookValuePerShare).toBe(10.3);
  });

  it('takes the splits file: the real ex date and announcement, and no derived split', async () => {
    const f = path.join(tmp, 'splits.csv');
    writeFileSync(f, 'symbol,ex_date,ratio,announced\nZZZ,2019-09-03,3:1,2019-07-30\n');
    const r = await importSec(csv(), path.join(tmp, 'out-file'), { splits: f });
    expect(r.events).toEqual({ fundamental: 4, corporate_action: 1 });
    expect(r.notes).toContain(`splits file ${f}: 1 splits`);
    expect(r.notes.some((n) => n.includes('derived from'))).toBe(false);
  });

  it('a malformed splits file fails with file, line, field and value', async () => {
    const f = path.join(tmp, 'bad-splits.csv');
    writeFileSync(f, 'symbol,ex_date,ratio,announced\nZZZ,2019-09-03,3:1,2019-07-30\nZZZ,2019-09-03,three,2019-07-30\n');
    const err = await importSec(csv(), path.join(tmp, 'out-bad'), { splits: f }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).info).toMatchObject({ file: f, row: 3, field: 'ratio', value: 'three' });
    writeFileSync(f, 'symbol,ex_date,ratio,announced\nZZZ,2019-09-03,100000:1,2019-07-30\n');
    const big = await importSec(csv(), path.join(tmp, 'out-bad'), { splits: f }).catch((e: unknown) => e);
    expect((big as InputError).info).toMatchObject({ row: 2, field: 'ratio', value: '100000:1' });
  });

  it('the CLI: one line and exit 2 for a bad splits file, or --splits with another format', () => {
    const f = path.join(tmp, 'cli-splits.csv');
    writeFileSync(f, 'symbol,ex_date,ratio,announced\nZZZ,2019-9-3,3:1,2019-07-30\n');
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/lockstep.js'), 'datasets', 'import', ...args], { encoding: 'utf8', cwd: repoRoot });
    const bad = run('--format', 'sec', '--in', csv(), '--out', path.join(tmp, 'cli-out'), '--splits', f);
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(`${f}, line 2, field ex_date`);
    expect(bad.stderr).toContain('2019-9-3');
    const other = run('--format', 'taq', '--in', tmp, '--out', path.join(tmp, 'cli-out'), '--splits', f);
    expect(other.status).toBe(2);
    expect(other.stderr.trim()).toContain('--splits is for --format sec only (got --format taq)');
  });
});
