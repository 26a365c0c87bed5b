/**
 * The README and docs/ cannot drift from the code (issue 21 #24: the README showed a demo hash
 * that the code no longer printed). Checked here, cheaply:
 *
 * 1. Every `lockstep ...` / `npx lockstep ...` / `node bin/lockstep.js ...` line in a fenced shell
 *    or transcript block names a real command and only flags that command's `--help` lists, and
 *    every relative link points at a file that exists. docs/cli.md holds each command's `--help`
 *    verbatim (blocks marked `<!-- help: <command path> -->`), one per command.
 * 2. Transcripts marked `<!-- checked: <name> -->` are run: each `$ npx lockstep ...` line is
 *    executed in one scratch directory, in document order, and its printed output compared with the
 *    block's; only wall-clock figures (seconds, events/s, rows/s) are masked, so a hash or a count
 *    that moves fails the test. The scratch directory prints as /home/you/lockstep.
 * 3. The block marked `<!-- file: examples/custom-factor.ts -->` equals that file when it exists,
 *    and so does every other `<!-- file: PATH -->` block of the README (examples/research.ts).
 *
 * After a change that moves a printed figure on purpose, rewrite the blocks from the real output
 * with `LOCKSTEP_UPDATE_DOCS=1 npx vitest run docs.test.ts` and review the diff.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = dirname(fileURLToPath(import.meta.url));
const BIN = join(ROOT, 'bin', 'lockstep.js');
const UPDATE = process.env.LOCKSTEP_UPDATE_DOCS === '1';
/** What the scratch directory of the transcripts prints as. */
const SHOWN_CWD = '/home/you/lockstep';
const DOC_FILES = ['README.md', 'ROADMAP.md', 'bench/RESULTS.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const CUSTOM_FACTOR = 'examples/custom-factor.ts';

interface Fence {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  body: string;
  /** Offsets of the body in the file's text (for rewriting it). */
  start: number;
  end: number;
  /** From `<!-- kind: value -->` on the nearest non-blank line above the fence. */
  marker?: { kind: string; value: string };
}

function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

function fences(file: string, text = readDoc(file)): Fence[] {
  const out: Fence[] = [];
  const lines = text.split('\n');
  const offsets: number[] = [];
  let off = 0;
  for (const l of lines) {
    offsets.push(off);
    off += l.length + 1;
  }
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const m = k >= 0 ? /^<!--\s*(checked|help|file):\s*(.+?)\s*-->$/.exec(lines[k].trim()) : null;
    const start = offsets[i + 1] ?? text.length;
    const end = j < lines.length ? offsets[j] : text.length;
    out.push({ file, line: i + 1, lang: open[1], body: text.slice(start, end), start, end, marker: m ? { kind: m[1], value: m[2] } : undefined });
    i = j;
  }
  return out;
}

/** Replaces fence bodies (given by offsets into `file`'s current text) and writes the file. */
function rewrite(file: string, edits: { start: number; end: number; body: string }[]): void {
  let text = readDoc(file);
  for (const e of [...edits].sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.body.replace(/[ \t]+$/gm, '') + text.slice(e.end);
  writeFileSync(join(ROOT, file), text);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[], cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// --- --help of every command path, parsed ---------------------------------------------------------

interface Help {
  text: string;
  subcommands: string[];
  flags: Set<string>;
}

function parseHelp(text: string): Help {
  const subcommands: string[] = [];
  const flags = new Set<string>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^(\w[\w ]*):$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    if (section === 'Commands') {
      const m = /^ {2}lockstep (\S+(?: \S+)*?)(?: {2,}|$)/.exec(line);
      if (m) subcommands.push(m[1].split(' ').filter((t) => !/^[<[]/.test(t)).at(-1)!);
    } else if (section === 'Options') {
      const m = /^\s+--([a-z][\w-]*)/.exec(line);
      if (m) flags.add(m[1]);
    }
  }
  return { text, subcommands, flags };
}

const helpCache = new Map<string, Promise<Help>>();
let helpSlots = 3;
const helpWaiters: (() => void)[] = [];

/** `lockstep <path> --help`, at most three at a time (the machine has two cores). */
function help(path: readonly string[]): Promise<Help> {
  const key = path.join(' ');
  let p = helpCache.get(key);
  if (!p) {
    p = (async () => {
      if (helpSlots === 0) await new Promise<void>((r) => helpWaiters.push(r));
      helpSlots--;
      try {
        const r = await runCli([...path, '--help']);
        if (r.code !== 0) throw new Error(`lockstep ${key} --help exited ${r.code}: ${r.stderr}`);
        return parseHelp(r.stdout);
      } finally {
        helpSlots++;
        helpWaiters.shift()?.();
      }
    })();
    helpCache.set(key, p);
  }
  return p;
}

/** Every command path, root first (walks the Commands sections). */
async function allCommandPaths(): Promise<string[][]> {
  const out: string[][] = [];
  const walk = async (path: string[]): Promise<void> => {
    out.push(path);
    const h = await help(path);
    await Promise.all(h.subcommands.map((c) => walk([...path, c])));
  };
  await walk([]);
  return out.sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
}

/**
 * A help text as docs/cli.md shows it: the worker's default consumer name holds a pid, and yargs
 * right-aligns that default to column 80, so the pid's digit count moves it: it is shown as
 * `worker-<pid>` right-aligned the same way.
 */
function shownHelp(text: string): string {
  const lines = text.split('\n').map((line) => {
    const m = /^(.*?) *(\[string\] \[default: )"worker-\d+"\]$/.exec(line);
    if (!m) return line;
    const tail = `${m[2]}"worker-<pid>"]`;
    return m[1] + ' '.repeat(Math.max(1, 80 - m[1].length - tail.length)) + tail;
  });
  return lines.join('\n').trimEnd() + '\n';
}

// --- command lines in the docs --------------------------------------------------------------------

const LAUNCHER = /^(?:npx lockstep|lockstep|node bin\/lockstep\.js)(?=\s|$)/;
const SHELL_FENCES = new Set(['', 'sh', 'shell', 'bash', 'console', 'text']);

/** Shell-like words of a command line, without the launcher, up to a pipe, redirect or comment. */
function words(line: string): string[] {
  const body = line.replace(LAUNCHER, '');
  const out: string[] = [];
  for (const m of body.matchAll(/"[^"]*"|'[^']*'|\S+/g)) {
    const w = m[0];
    if (w.startsWith('#') || ['|', '||', '&&', ';', '&'].includes(w) || /^\d?>/.test(w)) break;
    out.push(/^["']/.test(w) ? w.slice(1, -1) : w);
  }
  return out;
}

interface CommandLine {
  where: string;
  words: string[];
  inline?: boolean;
}

/**
 * `lockstep` command lines in shell and transcript blocks (help blocks are --help's own text), and
 * inline code that starts with one (`inline` is true: a command group may be named alone there).
 */
function commandLines(): CommandLine[] {
  const out: CommandLine[] = [];
  for (const file of DOC_FILES) {
    const prose = readDoc(file).replace(/```[\s\S]*?```/g, '');
    for (const m of prose.matchAll(/`((?:npx )?lockstep [^`\n]+)`/g)) {
      out.push({ where: `${file} (inline)`, words: words(m[1].replace(/\\\|/g, '|').replace(/\|/g, ' ')), inline: true });
    }
    for (const f of fences(file)) {
      if (!SHELL_FENCES.has(f.lang) || f.marker?.kind === 'help') continue;
      const lines = f.body.replace(/\\\n\s*/g, ' ').split('\n');
      lines.forEach((raw, i) => {
        const line = raw.trim().replace(/^\$\s+/, '');
        if (LAUNCHER.test(line)) out.push({ where: `${file}:${f.line + 1 + i}`, words: words(line) });
      });
    }
  }
  return out;
}

/** Problems with one command line: unknown command, a command group without a command, unknown flags. */
async function checkCommand(words: readonly string[], inline = false): Promise<string[]> {
  const path: string[] = [];
  let h = await help(path);
  let i = 0;
  while (i < words.length && h.subcommands.includes(words[i])) {
    path.push(words[i++]);
    h = await help(path);
  }
  const rest = words.slice(i).map((w) => w.replace(/^[[(]+|[\]),]+$/g, ''));
  const problems: string[] = [];
  if (h.subcommands.length > 0 && !rest.includes('--help')) {
    if (rest.length > 0 && !rest[0].startsWith('-')) problems.push(`no command "${[...path, rest[0]].join(' ')}"`);
    else if (!inline) problems.push(`"${path.join(' ') || 'lockstep'}" needs one of ${h.subcommands.join(', ')}`);
  }
  for (const w of rest) {
    if (!w.startsWith('--') || w === '--') continue;
    const flag = w.slice(2).split('=')[0];
    if (h.flags.has(flag) || (flag.startsWith('no-') && h.flags.has(flag.slice(3)))) continue;
    problems.push(`lockstep ${path.join(' ')} has no flag --${flag}`);
  }
  return problems;
}

function relativeLinks(file: string): string[] {
  // links inside code blocks and inline code are not links
  const text = readDoc(file).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.split('#')[0]);
  }
  return out;
}

// --- transcripts ----------------------------------------------------------------------------------

/** Masks wall-clock figures, the only part of a transcript allowed to differ between runs. */
function maskClock(text: string): string {
  return text
    .replace(/\b\d+(?:\.\d+)? s\b/g, '<t> s')
    .replace(/\b[\d.]+[kM]? (events|rows)\/s\b/g, '<n> $1/s');
}

/** Trailing blanks are not kept by every editor; compare without them. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

interface Step {
  command: string;
  expected: string;
}

function steps(body: string): Step[] {
  const out: Step[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2), expected: '' });
    else if (out.length > 0) out[out.length - 1].expected += line + '\n';
    else throw new Error(`a checked transcript must start with a "$ " line, not ${JSON.stringify(line)}`);
  }
  return out;
}

/**
 * The README's way of running an example script from a checkout: node resolves `lockstep` to the
 * sources (the `lockstep-source` export condition) and tsx strips the types.
 */
const EXAMPLE = /^node --conditions=lockstep-source --import tsx (examples\/[\w-]+\.ts)((?:\s+[^\s|#]+)*)/;

/** Runs an example script the README shows, from the repository, in `cwd`. */
function runExample(script: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--conditions=lockstep-source', '--import', import.meta.resolve('tsx'), join(ROOT, script), ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs one `$` line of a transcript in `cwd`; returns what a terminal would show. */
async function runStep(command: string, cwd: string): Promise<string> {
  const example = EXAMPLE.exec(command);
  if (!LAUNCHER.test(command) && !example) throw new Error(`a checked transcript runs lockstep commands and example scripts only: ${command}`);
  const head = /\|\s*head -(\d+)\s*(?:#.*)?$/.exec(command);
  const status = /#\s*exit status (\d+)/.exec(command);
  const r = example ? await runExample(example[1], example[2].trim().split(/\s+/).filter(Boolean), cwd) : await runCli(words(command), cwd);
  expect(r.code, `exit status of: ${command}\n${r.stderr}`).toBe(status ? Number(status[1]) : 0);
  let shown = r.stdout + r.stderr;
  if (head) shown = shown.split('\n').slice(0, Number(head[1])).join('\n') + '\n';
  return shown.split(cwd).join(SHOWN_CWD);
}

// --------------------------------------------------------------------------------------------------

describe('README and docs', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'lockstep-readme-')));
  cpSync(join(ROOT, 'examples'), join(scratch, 'examples'), { recursive: true });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('every lockstep command line names a real command and only its flags', async () => {
    const lines = commandLines();
    expect(lines.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const l of lines) for (const p of await checkCommand(l.words, l.inline)) problems.push(`${l.where}: ${p}`);
    expect(problems).toEqual([]);
  }, 300_000); // one --help run per distinct command line: ~50 s alone on 2 cores

  it('every relative link, and every relative import in a ts block, points at a file that exists', () => {
    const broken: string[] = [];
    for (const file of DOC_FILES) {
      for (const target of relativeLinks(file)) if (!existsSync(resolve(ROOT, dirname(file), target))) broken.push(`${file}: ${target}`);
      // code samples import from the repository root, as a script there would
      for (const f of fences(file).filter((x) => x.lang === 'ts')) {
        for (const m of f.body.matchAll(/from '(\.{1,2}\/[^']+)'/g)) if (!existsSync(resolve(ROOT, m[1]))) broken.push(`${file}:${f.line}: import ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("docs/cli.md shows every command's --help as it is", async () => {
    const paths = await allCommandPaths();
    const blocks = fences('docs/cli.md').filter((f) => f.marker?.kind === 'help');
    const byPath = new Map(blocks.map((b) => [b.marker!.value, b]));
    expect(blocks.map((b) => b.marker!.value).sort()).toEqual(paths.map((p) => p.join(' ') || 'lockstep').sort());
    const edits: { start: number; end: number; body: string }[] = [];
    for (const p of paths) {
      const block = byPath.get(p.join(' ') || 'lockstep')!;
      const actual = shownHelp((await help(p)).text);
      if (UPDATE) edits.push({ start: block.start, end: block.end, body: actual });
      else expect(tidy(block.body), `docs/cli.md:${block.line}, lockstep ${p.join(' ')} --help`).toBe(tidy(actual));
    }
    if (UPDATE) rewrite('docs/cli.md', edits);
  });

  it('the checked transcripts print what the commands print (quick start first)', async () => {
    const blocks = DOC_FILES.flatMap((file) => fences(file).filter((f) => f.marker?.kind === 'checked'));
    // the quick start's demo makes the sample day the other transcripts read
    expect(blocks[0]?.file, 'the first checked transcript is the README quick start').toBe('README.md');
    expect(blocks.map((b) => b.marker!.value)).toEqual(expect.arrayContaining(['demo', 'factors-list', 'parity-diff']));
    const edits = new Map<string, { start: number; end: number; body: string }[]>();
    for (const block of blocks) {
      let body = '';
      for (const step of steps(block.body)) {
        const shown = await runStep(step.command, scratch);
        body += `$ ${step.command}\n${shown.replace(/\n*$/, '\n')}`;
        if (!UPDATE) {
          expect(tidy(maskClock(step.expected)), `${block.file}:${block.line} (${block.marker!.value}): $ ${step.command}`).toBe(tidy(maskClock(shown)));
        }
      }
      if (UPDATE) edits.set(block.file, [...(edits.get(block.file) ?? []), { start: block.start, end: block.end, body }]);
    }
    for (const [file, e] of edits) rewrite(file, e);
    // a dozen real CLI runs (replay, training set, parity...): ~80 s alone on 2 cores, more when the
    // machine is shared, so not the suite's 120 s default
  }, 360_000);

  it(`the custom factor example is ${CUSTOM_FACTOR}, verbatim`, () => {
    const blocks = fences('README.md').filter((f) => f.marker?.kind === 'file' && f.marker.value === CUSTOM_FACTOR);
    expect(blocks).toHaveLength(1);
    expect(blocks[0].lang).toBe('ts');
    expect(blocks[0].body).toContain('defineFactor(');
    const file = join(ROOT, CUSTOM_FACTOR);
    if (existsSync(file)) expect(tidy(blocks[0].body)).toBe(tidy(readFileSync(file, 'utf8')));
  });

  it('every other README block marked as a file is that file, verbatim', () => {
    const blocks = fences('README.md').filter((f) => f.marker?.kind === 'file' && f.marker.value !== CUSTOM_FACTOR);
    expect(blocks.map((b) => b.marker!.value)).toContain('examples/research.ts');
    for (const b of blocks) expect(tidy(b.body), `README.md:${b.line}`).toBe(tidy(readFileSync(join(ROOT, b.marker!.value), 'utf8')));
  });
});
