/**
 * The README's worked example on the real AAPL day ("Research", the block marked
 * `<!-- real-data: aapl-research -->`) cannot drift: its commands are run here on the recorded
 * files (LOBSTER AAPL 2012-06-21 and AAPL's SEC fundamentals), in a scratch directory, in order,
 * and every printed line must equal the README's. docs.test.ts runs the sample-day transcripts;
 * this block needs the real data, so it lives here and is skipped, with the reason printed, when
 * the data is not there (testing/real-data.ts; LOCKSTEP_REAL_DATA points elsewhere).
 *
 * The README writes the data's folder as `../shared/data/real` (beside a checkout); the commands
 * run with the real folder in its place and its path prints back as that. After a change that
 * moves a figure on purpose: `LOCKSTEP_UPDATE_DOCS=1 npx vitest run research/readme-aapl.test.ts`, and review.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { realData } from '../testing/real-data.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MARKER = '<!-- real-data: aapl-research -->';
const SHOWN_DATA = '../shared/data/real';
const REAL = realData('README worked example on the real AAPL day', 'equity_lobster/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip', 'fundamentals_sec/AAPL_quarterly_fundamentals_sec.csv');

/** The marked block of README.md: its body and its offsets (for LOCKSTEP_UPDATE_DOCS). */
function block(text: string): { body: string; start: number; end: number } {
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} block`);
  const open = text.indexOf('```\n', at);
  const start = open + 4;
  const end = text.indexOf('\n```', start) + 1;
  return { body: text.slice(start, end), start, end };
}

/** Each `$ ` line with the lines printed under it. */
function steps(body: string): { command: string; expected: string }[] {
  const out: { command: string; expected: string }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2), expected: '' });
    else if (out.length > 0) out[out.length - 1].expected += line + '\n';
  }
  return out;
}

const EXAMPLE = /^node --conditions=lockstep-source --import tsx (examples\/[\w-]+\.ts)\s+(.*)$/;

function run(command: string, cwd: string): Promise<string> {
  const args = command.replaceAll(SHOWN_DATA, REAL.dir).split(/\s+/);
  let argv: string[];
  const example = EXAMPLE.exec(command);
  if (example) argv = ['--conditions=lockstep-source', '--import', import.meta.resolve('tsx'), join(ROOT, example[1]), ...example[2].split(/\s+/)];
  else if (args[0] === 'npx' && args[1] === 'lockstep') argv = [join(ROOT, 'bin', 'lockstep.js'), ...args.slice(2)];
  else throw new Error(`the AAPL example runs lockstep commands and example scripts only: ${command}`);
  return new Promise((done, fail) => {
    execFile(process.execPath, argv, { cwd, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${command}: exit ${String(err.code)}\n${stderr}`));
      else done((stdout + stderr).split(REAL.dir).join(SHOWN_DATA));
    });
  });
}

const tidy = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();

describe.skipIf(!REAL.present)('README: the worked example on the real AAPL day', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'lockstep-readme-aapl-')));
  cpSync(join(ROOT, 'examples'), join(scratch, 'examples'), { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('prints what the README shows, line for line', async () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const b = block(text);
    const all = steps(b.body);
    expect(all.map((s) => s.command.split(' ').slice(0, 3).join(' '))).toEqual(['npx lockstep datasets', 'npx lockstep datasets', 'npx lockstep training-set', 'node --conditions=lockstep-source --import']);
    let body = '';
    for (const s of all) {
      const shown = await run(s.command, scratch);
      body += `$ ${s.command}\n${shown.replace(/\n*$/, '\n')}`;
      if (process.env.LOCKSTEP_UPDATE_DOCS !== '1') expect(tidy(s.expected), `README.md: $ ${s.command}`).toBe(tidy(shown));
    }
    if (process.env.LOCKSTEP_UPDATE_DOCS === '1') writeFileSync(join(ROOT, 'README.md'), text.slice(0, b.start) + body + text.slice(b.end));
  });
});
